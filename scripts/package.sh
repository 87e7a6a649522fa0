#!/usr/bin/env bash
# Build the release artefacts:
#   target/debian/rcfg_<version>_amd64.deb   binary, man pages, bash/zsh/fish completions,
#                                            README and license in their standard places
#   target/static/rcfg                       one statically linked file to copy to a server
# Needs cargo-deb (installed with `cargo install cargo-deb --locked` when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked -q

# One release build: static glibc (crt-static; the musl target is not installed on every
# machine, and a static glibc binary runs on any x86_64 Linux). Its own target dir keeps the
# normal build's artefacts valid. The .deb ships the same binary.
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked -q \
  --target x86_64-unknown-linux-gnu --target-dir target/static-build
mkdir -p target/static
cp target/static-build/x86_64-unknown-linux-gnu/release/rcfg target/static/rcfg
bin=target/static/rcfg

assets=target/assets
rm -rf "$assets"; mkdir -p "$assets/man" "$assets/completions"
"$bin" man --out-dir "$assets/man" >/dev/null
gzip -9n "$assets"/man/*.1
"$bin" completions bash > "$assets/completions/rcfg.bash"
"$bin" completions zsh > "$assets/completions/_rcfg"
"$bin" completions fish > "$assets/completions/rcfg.fish"
cargo deb --no-build --locked -q
ls -l target/static/rcfg target/debian/*.deb
