#!/usr/bin/env bash
# Benchmark of the streaming RDB reader (src/rdb/) on a dump of a 1,000,000-key mixed-type
# keyspace (the one bench/redis_audit.sh builds, via bench/gen_keys.py), then 3,000,000 keys
# for the peak-RSS check. Until `audit-ttl --rdb` is wired, the reader runs through the
# release build of the ignored `bench_read_dump` test in tests/rdb.rs (reads the whole dump,
# verifies the CRC64, counts keys).
#
# Measures, in one run (median of $REPEAT interleaved rounds):
#   cat dump.rdb > /dev/null                   (page-cache read speed: the floor)
#   rdb reader over dump.rdb                   (tests/rdb.rs bench_read_dump, release)
#   rcfg audit-ttl --redis unix://…            (the live audit of the same server)
#   rdb --command justkeys (rdbtools, PyPI)    (when installed and able to read the file)
# Targets: reader <= 2x cat; reader <= 0.3x live audit; peak RSS(3M) / RSS(1M) <= 1.25.
#
# Usage: bench/rdb_audit.sh            (KEYS=1000000 BIG_KEYS=3000000 REPEAT=3 to change)
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=${KEYS:-1000000}
BIG_KEYS=${BIG_KEYS:-3000000}
REPEAT=${REPEAT:-3}
TARGET=${CARGO_TARGET_DIR:-target}

command -v redis-server >/dev/null || { echo "redis-server is needed" >&2; exit 2; }

cargo build --release --quiet
RCFG="$TARGET/release/rcfg"
BENCH=$(cargo test --release --test rdb --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "rdb" and m.get("executable"):
        print(m["executable"])')
[ -x "$BENCH" ] || { echo "could not build the rdb test binary" >&2; exit 2; }

WORK=$(mktemp -d)
SOCK="$WORK/redis.sock"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {
  redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --save "" --appendonly no \
    --dir "$WORK" --dbfilename dump.rdb --daemonize no --loglevel warning \
    --logfile "$WORK/redis.log" &
  PID=$!
  for _ in $(seq 1 200); do
    redis-cli -s "$SOCK" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "redis-server did not start" >&2; exit 2
}

load_and_save() {
  redis-cli -s "$SOCK" flushall >/dev/null
  python3 bench/gen_keys.py "$1" | redis-cli -s "$SOCK" --pipe >/dev/null
  redis-cli -s "$SOCK" save >/dev/null
  echo "$1 keys: dump $(stat -c %s "$WORK/dump.rdb") bytes; $(redis-cli -s "$SOCK" info keyspace | grep '^db0')"
}

measure() { python3 bench/measure.py "$REPEAT" "$@"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
reader() { env RCFG_RDB_BENCH_FILE="$WORK/dump.rdb" "$BENCH" --ignored --exact bench_read_dump --nocapture "$@"; }

start_server
load_and_save "$KEYS"
reader | grep '^rdb reader'
{
  read -r T_CAT _
  read -r T_RDB RSS_1M
  read -r T_LIVE _
} < <(measure sh -c "cat '$WORK/dump.rdb' > /dev/null" \
  :: env RCFG_RDB_BENCH_FILE="$WORK/dump.rdb" "$BENCH" --ignored --exact bench_read_dump \
  :: "$RCFG" audit-ttl --no-progress --format json --redis "unix://$SOCK")
echo "cat dump.rdb:        ${T_CAT}s"
echo "rdb reader:          ${T_RDB}s (peak RSS ${RSS_1M} KiB) = $(ratio "$T_RDB" "$T_CAT")x cat"
echo "audit-ttl --redis:   ${T_LIVE}s; reader / live = $(ratio "$T_RDB" "$T_LIVE")"

if command -v rdb >/dev/null 2>&1; then
  if rdb --command justkeys "$WORK/dump.rdb" >/dev/null 2>"$WORK/rdbtools.err"; then
    read -r T_TOOLS _ < <(measure rdb --command justkeys "$WORK/dump.rdb")
    echo "rdbtools justkeys:   ${T_TOOLS}s = $(ratio "$T_TOOLS" "$T_RDB")x the reader"
  else
    echo "rdbtools cannot read this dump: $(tail -1 "$WORK/rdbtools.err")"
  fi
else
  echo "rdbtools (pip install rdbtools) not installed: not compared"
fi

load_and_save "$BIG_KEYS"
read -r T_RDB3 RSS_3M < <(measure env RCFG_RDB_BENCH_FILE="$WORK/dump.rdb" "$BENCH" --ignored --exact bench_read_dump)
echo "rdb reader, $BIG_KEYS keys: ${T_RDB3}s, peak RSS ${RSS_3M} KiB = $(ratio "$RSS_3M" "$RSS_1M")x the 1M run"
