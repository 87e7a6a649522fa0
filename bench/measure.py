#!/usr/bin/env python3
"""Time several commands, interleaved (round 1 runs each once, then round 2, …) so that a
change in machine load hits them all alike. Commands are separated by `::`; stdout goes to
/dev/null. Prints one line per command: the median wall time in seconds and the largest peak
RSS in KiB. Exit codes 0 and 1 (rcfg's "findings") count as success.
Usage: measure.py REPEAT cmd1 args :: cmd2 args :: …"""
import os
import statistics
import subprocess
import sys
import time


def main():
    repeat = int(sys.argv[1])
    cmds, cur = [], []
    for a in sys.argv[2:]:
        if a == "::":
            cmds.append(cur)
            cur = []
        else:
            cur.append(a)
    cmds.append(cur)
    times = [[] for _ in cmds]
    rss = [0 for _ in cmds]
    for _ in range(repeat):
        for i, cmd in enumerate(cmds):
            t = time.perf_counter()
            pid = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
            _, status, usage = os.wait4(pid, 0)
            times[i].append(time.perf_counter() - t)
            rss[i] = max(rss[i], usage.ru_maxrss)
            code = os.waitstatus_to_exitcode(status)
            if code not in (0, 1):
                print(f"command failed with exit {code}: {cmd}", file=sys.stderr)
                sys.exit(1)
    for i in range(len(cmds)):
        print(f"{statistics.median(times[i]):.3f} {rss[i]}")


if __name__ == "__main__":
    main()
