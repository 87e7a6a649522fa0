#!/usr/bin/env bash
# Benchmark of `rcfg audit-ttl --redis` against the usual alternatives, on a fresh
# redis-server (unix socket, temp dir) loaded with 1,000,000 keys of mixed types and TTLs.
#
# Measures, in one run (median of $REPEAT interleaved rounds):
#   rcfg audit-ttl --redis unix://…           (SCAN + pipelined PTTL, grouped report)
#   redis-cli --scan                          (key listing only)
#   rcfg audit-ttl --redis … --memory         (adds MEMORY USAGE per key)
#   redis-cli --memkeys                       (SCAN + TYPE + MEMORY USAGE)
#   redis-py SCAN COUNT 1000 + pipelined TTL  (bench/redispy_audit.py)
# then reloads with 3,000,000 keys and compares rcfg's peak RSS at 3M with 1M.
#
# Targets: rcfg / redis-cli --scan <= 0.8; redis-py / rcfg >= 5; memkeys / rcfg --memory >= 2;
# peak RSS(3M) / RSS(1M) <= 1.25.
#
# Usage: bench/redis_audit.sh            (KEYS=1000000 BIG_KEYS=3000000 REPEAT=3 to change)
# Needs redis-server, redis-cli, python3 (installs the `redis` package with pip if missing).
# Builds the release binary into $CARGO_TARGET_DIR (default target/).
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=${KEYS:-1000000}
BIG_KEYS=${BIG_KEYS:-3000000}
REPEAT=${REPEAT:-3}
TARGET=${CARGO_TARGET_DIR:-target}

command -v redis-server >/dev/null || { echo "redis-server is needed" >&2; exit 2; }
python3 -c 'import redis' 2>/dev/null || python3 -m pip install --quiet redis

cargo build --release --quiet
RCFG="$TARGET/release/rcfg"

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
    --dir "$WORK" --daemonize no --loglevel warning --logfile "$WORK/redis.log" &
  PID=$!
  for _ in $(seq 1 200); do
    redis-cli -s "$SOCK" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "redis-server did not start" >&2; exit 2
}

stop_server() {
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  rm -f "$SOCK"
}

load() {
  local n=$1 t0
  t0=$SECONDS
  python3 bench/gen_keys.py "$n" | redis-cli -s "$SOCK" --pipe >/dev/null
  echo "loaded $n keys in $((SECONDS - t0))s: $(redis-cli -s "$SOCK" info keyspace | grep '^db0')"
}

measure() { python3 bench/measure.py "$REPEAT" "$@"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }

start_server
load "$KEYS"
URL="unix://$SOCK"

{
  read -r T_RCFG RSS_1M
  read -r T_SCAN _
  read -r T_RCFG_MEM _
  read -r T_MEMKEYS _
  read -r T_PY _
} < <(measure "$RCFG" audit-ttl --no-progress --format json --redis "$URL" \
  :: redis-cli -s "$SOCK" --scan \
  :: "$RCFG" audit-ttl --no-progress --format json --memory --redis "$URL" \
  :: redis-cli -s "$SOCK" --memkeys \
  :: python3 bench/redispy_audit.py "$SOCK")

echo
echo "== $KEYS keys (median of $REPEAT interleaved runs)"
printf '%-44s %8ss\n' "rcfg audit-ttl --redis" "$T_RCFG"
printf '%-44s %8ss\n' "redis-cli --scan (listing only)" "$T_SCAN"
printf '%-44s %8ss\n' "rcfg audit-ttl --redis --memory" "$T_RCFG_MEM"
printf '%-44s %8ss\n' "redis-cli --memkeys" "$T_MEMKEYS"
printf '%-44s %8ss\n' "redis-py SCAN 1000 + pipelined TTL" "$T_PY"
echo
echo "rcfg / redis-cli --scan      = $(ratio "$T_RCFG" "$T_SCAN")   (target <= 0.8)"
echo "redis-py / rcfg              = $(ratio "$T_PY" "$T_RCFG")   (target >= 5)"
echo "memkeys / rcfg --memory      = $(ratio "$T_MEMKEYS" "$T_RCFG_MEM")   (target >= 2)"

stop_server
start_server
load "$BIG_KEYS"
read -r T_BIG RSS_3M < <(measure "$RCFG" audit-ttl --no-progress --format json --redis "$URL")
echo
echo "== peak RSS of rcfg: $RSS_1M KiB at $KEYS keys, $RSS_3M KiB at $BIG_KEYS keys ($T_BIG s)"
echo "RSS(3M) / RSS(1M)            = $(ratio "$RSS_3M" "$RSS_1M")   (target <= 1.25)"
