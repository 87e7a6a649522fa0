#!/usr/bin/env python3
"""Sampled precision of `rcfg audit-ttl` warnings on real CMS code.

Scans each corpus (a directory of real third-party code kept OUTSIDE the repository, see
bench/precision_corpus.md for how to get it) with one or two rcfg binaries, takes the
warnings (severity warning or error: what counts as site risk), draws a seeded random
sample of at most N per corpus, and scores the sample against the checked-in judgements
(bench/precision_judgements.tsv: corpus, path relative to the corpus, line, rule, verdict
tp|fp, one-line reason). Sampled warnings nobody judged yet are listed so they can be read
and judged; they are left out of the figure, never guessed.

    bench/precision.py --rcfg target/debug/rcfg [--before OLD_RCFG] \
        --corpus wordpress=/usr/share/wordpress --corpus js=/tmp/corpus/npm \
        [--sample 40] [--seed 16] [--judgements bench/precision_judgements.tsv]
"""

import argparse
import csv
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def warnings_of(rcfg, root):
    out = subprocess.run(
        [rcfg, "audit-ttl", root, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode not in (0, 1):
        sys.exit(f"{rcfg} audit-ttl {root}: exit {out.returncode}: {out.stderr.strip()}")
    report = json.loads(out.stdout)
    got = []
    for f in report["findings"]:
        if f["severity"] not in ("warning", "error") or not f.get("location"):
            continue
        path = os.path.relpath(f["location"]["path"], root)
        got.append((path, int(f["location"]["line"]), f["code"], f.get("snippet", "")))
    got.sort()
    return got


def load_judgements(path):
    table = {}
    if not os.path.exists(path):
        return table
    with open(path, newline="") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#"):
                continue
            corpus, rel, line, rule, verdict, reason = (row + [""] * 6)[:6]
            if verdict not in ("tp", "fp"):
                sys.exit(f"{path}: verdict must be tp or fp: {row}")
            table[(corpus, rel, int(line), rule)] = (verdict, reason)
    return table


def score(name, corpus, warns, n, seed, judged):
    rng = random.Random(f"{seed}:{corpus}")
    sample = warns if len(warns) <= n else rng.sample(warns, n)
    tp = fp = 0
    todo = []
    for path, line, rule, snippet in sorted(sample):
        v = judged.get((corpus, path, line, rule))
        if v is None:
            todo.append((path, line, rule, snippet))
        elif v[0] == "tp":
            tp += 1
        else:
            fp += 1
    prec = tp / (tp + fp) if tp + fp else float("nan")
    print(
        f"{name:6} {corpus:10} warnings={len(warns):4} sampled={len(sample):3} "
        f"judged={tp + fp:3} tp={tp:3} fp={fp:3} precision={prec:.2f}"
    )
    for path, line, rule, snippet in todo:
        print(f"  UNJUDGED\t{corpus}\t{path}\t{line}\t{rule}\t{snippet[:100]}")
    return tp, fp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rcfg", required=True)
    ap.add_argument("--before", help="an older rcfg binary to compare with")
    ap.add_argument("--corpus", action="append", required=True, metavar="NAME=DIR")
    ap.add_argument("--sample", type=int, default=40)
    ap.add_argument("--seed", default="16")
    ap.add_argument(
        "--judgements", default=os.path.join(HERE, "precision_judgements.tsv")
    )
    args = ap.parse_args()
    judged = load_judgements(args.judgements)
    bins = [("after", args.rcfg)]
    if args.before:
        bins.insert(0, ("before", args.before))
    for spec in args.corpus:
        corpus, _, root = spec.partition("=")
        if not os.path.isdir(root):
            sys.exit(f"--corpus {spec}: not a directory")
        for name, rcfg in bins:
            score(name, corpus, warnings_of(rcfg, root), args.sample, args.seed, judged)


if __name__ == "__main__":
    main()
