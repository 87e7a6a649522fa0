#!/usr/bin/env bash
# Packaging check (run by CI after the test suite): build the .deb and the static binary with
# scripts/package.sh, unpack the .deb into a scratch root with `dpkg -x`, and use what was
# installed there: the binary, its man pages (man -l), its completions (bash), its license.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/package.sh >/dev/null

fail() { echo "test-package: FAILED: $*" >&2; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
deb=$(ls target/debian/rcfg_"$version"*_amd64.deb)
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
dpkg -x "$deb" "$scratch"
passed=0

out=$("$scratch/usr/bin/rcfg" --version)
[ "$out" = "rcfg $version" ] || fail "installed rcfg --version printed '$out'"; passed=$((passed+1))

for page in rcfg rcfg-detect rcfg-apply rcfg-audit-ttl; do
  f="$scratch/usr/share/man/man1/$page.1.gz"
  [ -f "$f" ] || fail "$page.1.gz not installed"
  MANWIDTH=100 man -l "$f" 2>/dev/null | grep -q "Examples:" || fail "man -l $page.1.gz shows no examples"
done; passed=$((passed+1))

bash -c "source '$scratch/usr/share/bash-completion/completions/rcfg' && complete -p rcfg" >/dev/null \
  || fail "bash completion does not register rcfg"
[ -s "$scratch/usr/share/zsh/vendor-completions/_rcfg" ] || fail "zsh completion missing"
[ -s "$scratch/usr/share/fish/vendor_completions.d/rcfg.fish" ] || fail "fish completion missing"
passed=$((passed+1))

grep -q "MIT License" "$scratch/usr/share/doc/rcfg/copyright" || fail "copyright lacks the license"
[ -f "$scratch/usr/share/doc/rcfg/README.md" ] || fail "README not installed"
passed=$((passed+1))

# The static binary: no dynamic section, and it runs the real job in an empty environment.
ldd target/static/rcfg 2>&1 | grep -Eq "statically linked|not a dynamic executable" \
  || fail "target/static/rcfg is dynamically linked"
# (exit 1 is expected: the sample root has deliberate collisions)
code=0; env -i target/static/rcfg detect --root fixtures/hosting-root --format json \
  > "$scratch/detect.json" || code=$?
[ "$code" = 1 ] || fail "static rcfg detect --root exited $code"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["sites"]) == 5, d' \
  "$scratch/detect.json" || fail "static rcfg detect --root did not report the 5 sample sites"
passed=$((passed+1))

echo "package: $passed passed, 0 failed"
