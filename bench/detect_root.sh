#!/usr/bin/env bash
# Benchmark: `rcfg detect --root` over a hosting root of 200 sites built from fixtures/,
# side by side with `find ROOT -maxdepth 4 -name wp-config.php` on the same root.
# Target (issue 2): rcfg within 2x of that find.
#
# Two roots are measured: the fixture trees as they are, and the same trees with realistic
# bulk added (uploads, plugins, vendor/ and node_modules/ directories), which find has to
# walk and rcfg skips.
#
# Usage: bench/detect_root.sh [SITES]   (default 200). Needs hyperfine (apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."
SITES=${1:-200}
OUT=bench/out/detect
rm -rf "$OUT"; mkdir -p "$OUT"
command -v hyperfine >/dev/null || { echo "installing hyperfine" >&2; apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --locked -q
BIN=$PWD/target/release/rcfg

mapfile -t SOURCES < <(ls -d fixtures/hosting-root/*/ fixtures/wordpress-* fixtures/drupal-* fixtures/magento* fixtures/medusa-* 2>/dev/null | sed 's:/$::')
build_root() { # dest bulk(0|1)
  local dest=$1 bulk=$2 i=0
  mkdir -p "$dest"
  while [ $i -lt "$SITES" ]; do
    local src=${SOURCES[$((i % ${#SOURCES[@]}))]}
    local site="$dest/site$(printf %03d $i).example.com"
    cp -a "$src" "$site"
    if [ "$bulk" = 1 ]; then
      for y in 2023 2024; do for m in 01 02 03 04 05 06; do
        mkdir -p "$site/wp-content/uploads/$y/$m" "$site/vendor/pkg$m/lib$y/src" "$site/node_modules/mod$m/lib$y"
        for f in a b c; do
          : > "$site/wp-content/uploads/$y/$m/img-$f.jpg"
          : > "$site/vendor/pkg$m/lib$y/src/Class$f.php"
          : > "$site/node_modules/mod$m/lib$y/$f.js"
        done
      done; done
    fi
    i=$((i + 1))
  done
}
build_root "$OUT/plain" 0
build_root "$OUT/bulk" 1
echo "sites: $SITES; files: plain $(find "$OUT/plain" -type f | wc -l), bulk $(find "$OUT/bulk" -type f | wc -l)"

for kind in plain bulk; do
  ROOT=$OUT/$kind
  "$BIN" detect --root "$ROOT" --format json > "$OUT/$kind.json" || true
  echo "== $kind: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["sites"]))' "$OUT/$kind.json") sites detected"
  hyperfine --warmup 3 --min-runs 20 -N -i --export-json "$OUT/$kind-hf.json" \
    "$BIN detect --root $ROOT --format json" \
    "find $ROOT -maxdepth 4 -name wp-config.php" > "$OUT/$kind-hf.txt" 2>&1 || { cat "$OUT/$kind-hf.txt"; exit 1; }
  python3 - "$OUT/$kind-hf.json" "$kind" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
rcfg, find = r[0]["mean"], r[1]["mean"]
print(f"{sys.argv[2]}: rcfg detect --root {rcfg*1000:.2f} ms, find {find*1000:.2f} ms, ratio rcfg/find = {rcfg/find:.2f} (target <= 2.0)")
PY
done
