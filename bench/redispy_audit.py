#!/usr/bin/env python3
"""The usual hand-written audit: SCAN COUNT 1000 plus a pipelined TTL per key, counting
keys without expiry by their first two `:` segments. Usage: redispy_audit.py SOCKET"""
import collections
import sys

import redis


def main():
    r = redis.Redis(unix_socket_path=sys.argv[1])
    counts = collections.Counter()
    no_ttl = collections.Counter()
    cursor = 0
    while True:
        cursor, keys = r.scan(cursor=cursor, count=1000)
        if keys:
            p = r.pipeline(transaction=False)
            for k in keys:
                p.ttl(k)
            for k, ttl in zip(keys, p.execute()):
                ns = b":".join(k.split(b":")[:2])
                counts[ns] += 1
                if ttl == -1:
                    no_ttl[ns] += 1
        if cursor == 0:
            break
    print(sum(counts.values()), sum(no_ttl.values()), len(counts))


if __name__ == "__main__":
    main()
