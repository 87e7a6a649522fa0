#!/usr/bin/env bash
# Benchmark `rcfg audit-ttl` against ripgrep and grep on one generated tree.
#
# Generates >= 50,000 PHP/JS files under bench/out/tree (bench/gen_tree.py; skipped when
# the tree exists), builds rcfg in release mode, then times in ONE run:
#   rcfg audit-ttl --format json TREE
#   rg   -i -e PATTERN TREE          (the same call names rcfg prefilters on)
#   grep -RiE PATTERN TREE
# with hyperfine when present, else best of N runs timed with date +%s%N.
# Prints the wall times and the ratios rcfg/rg and rcfg/grep. Target: rcfg <= 1.5x rg.
#
# Usage: bench/audit_ttl.sh [FILES] [RUNS]     (defaults 50000 and 5)
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-50000}
RUNS=${2:-5}
OUT=bench/out
TREE=$OUT/tree

need=()
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$OUT"
if [ ! -f "$TREE/.generated-$FILES" ]; then
  rm -rf "$TREE"
  python3 bench/gen_tree.py "$TREE" "$FILES"
  touch "$TREE/.generated-$FILES"
fi

cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/rcfg

# The call names of the built-in rules, as rcfg's prefilter uses them.
PATTERN='(->|\.)[[:space:]]*(set|save|setmultiple|hset|hmset|hsetnx|sadd|lpush|rpush|zadd|incr|incrby|incrbyfloat)[[:space:]]*\(|(wp_cache_set|wp_cache_add|wp_cache_replace|wp_cache_set_multiple|wp_cache_add_multiple|set_transient|set_site_transient|cache_set)[[:space:]]*\('

RCFG_CMD="$BIN audit-ttl --format json $TREE"
RG_CMD="rg -i --no-messages -e '$PATTERN' $TREE"
GREP_CMD="grep -RiE '$PATTERN' $TREE"

# Sanity: what rcfg reports on the tree.
"$BIN" audit-ttl --format json "$TREE" > "$OUT/report.json" || true
python3 - "$OUT/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["stats"]
print(f"rcfg: {len(r['findings'])} findings, {s['files_scanned']} files scanned, "
      f"{s['files_analyzed']} analysed, {len(r['errors'])} errors")
PY
echo "rg matching lines:   $(eval "$RG_CMD" | wc -l)"

best_ms() { # best wall time of $RUNS runs, in ms
  local best=
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s%N); eval "$1" >/dev/null 2>&1 || true; t1=$(date +%s%N)
    local ms=$(( (t1 - t0) / 1000000 ))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "$best"
}

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 1 --runs "$RUNS" -i --export-json "$OUT/hyperfine.json" \
    -n rcfg "$RCFG_CMD" -n rg "$RG_CMD" -n grep "$GREP_CMD" >/dev/null
  read -r RCFG RG GREP < <(python3 - "$OUT/hyperfine.json" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
print(" ".join(str(round(min(res[n]["times"]) * 1000)) for n in ("rcfg", "rg", "grep")))
PY
)
  TOOL="hyperfine, best of $RUNS"
else
  eval "$RCFG_CMD" >/dev/null 2>&1 || true # warm the page cache
  RCFG=$(best_ms "$RCFG_CMD"); RG=$(best_ms "$RG_CMD"); GREP=$(best_ms "$GREP_CMD")
  TOOL="date +%s%N, best of $RUNS"
fi

echo "wall time ($TOOL) on $FILES files, $(nproc) CPUs:"
printf '  rcfg audit-ttl  %6d ms\n  rg              %6d ms\n  grep -R         %6d ms\n' "$RCFG" "$RG" "$GREP"
python3 - "$RCFG" "$RG" "$GREP" <<'PY'
import sys
rcfg, rg, grep = (max(int(x), 1) for x in sys.argv[1:])
print(f"  rcfg/rg   = {rcfg / rg:.2f}x  (target <= 1.50x: {'met' if rcfg / rg <= 1.5 else 'NOT met'})")
print(f"  rcfg/grep = {rcfg / grep:.2f}x")
PY
