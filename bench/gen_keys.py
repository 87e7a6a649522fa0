#!/usr/bin/env python3
"""Write N Redis commands as raw RESP to stdout, for `redis-cli --pipe`.

A mixed keyspace shaped like a shared CMS host: WordPress object cache strings (some
without TTL), Drupal render hashes (with EXPIRE), Drupal cache-tag counters, Magento
zc:k hashes and zc:ti tag sets, sessions, BullMQ lists, sorted sets and generic keys.
Usage: gen_keys.py N
"""
import random
import sys


def resp(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        if isinstance(p, str):
            p = p.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


def main():
    n = int(sys.argv[1])
    rnd = random.Random(42)
    w = sys.stdout.buffer
    buf = []
    groups = ["options", "posts", "post_meta", "transient", "terms", "users"]
    for i in range(n):
        kind = i % 10
        # No TTL shorter than the benchmark itself: the keyspace must not shrink mid-run.
        ttl = rnd.choice([None, 900, 3600, 7200, 172800, 2592000])
        if kind < 4:
            key = "site%d:wp:%s:%d" % (i % 7, groups[i % 6], i)
            cmd = resp("SET", key, "x" * 32) if ttl is None else resp("SET", key, "x" * 32, "EX", str(ttl))
        elif kind < 6:
            key = "d10:render:entity_view:node:%d:full" % i
            cmd = resp("HSET", key, "data", "y" * 48, "created", "1700000000")
            cmd += resp("EXPIRE", key, "31536000")
        elif kind == 6:
            key = "zc:k:69d_%032x" % i
            cmd = resp("HSET", key, "d", "z" * 40, "t", "TAG", "m", "1700000000")
            if ttl is not None:
                cmd += resp("EXPIRE", key, str(ttl))
        elif kind == 7:
            cmd = resp("SADD", "zc:ti:69d_TAG_%d" % i, "69d_%d" % i)
        elif kind == 8:
            key = "sess_%024x" % i
            cmd = resp("SET", key, "s" * 24, "EX", "86400") if i % 3 else resp("SET", key, "s" * 24)
        else:
            key = "object_%d" % i if i % 2 else "app:queue:%d" % i
            cmd = resp("ZADD", key, "1", "m") if i % 4 == 1 else resp("SET", key, "v")
        buf.append(cmd)
        if len(buf) >= 10000:
            w.write(b"".join(buf))
            buf.clear()
    w.write(b"".join(buf))


if __name__ == "__main__":
    main()
