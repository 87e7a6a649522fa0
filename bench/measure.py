#!/usr/bin/env python3
"""Run a command REPEAT times (stdout to /dev/null); print the median wall time in seconds
and the largest peak RSS in KiB, as `seconds rss_kib`. Usage: measure.py REPEAT cmd…"""
import os
import resource
import statistics
import subprocess
import sys
import time


def main():
    repeat = int(sys.argv[1])
    cmd = sys.argv[2:]
    times = []
    rss = 0
    for _ in range(repeat):
        t = time.perf_counter()
        pid = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
        _, status, usage = os.wait4(pid, 0)
        times.append(time.perf_counter() - t)
        rss = max(rss, usage.ru_maxrss)
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            print(f"command failed with exit {code}: {cmd}", file=sys.stderr)
            sys.exit(1)
    print(f"{statistics.median(times):.3f} {rss}")


if __name__ == "__main__":
    main()
