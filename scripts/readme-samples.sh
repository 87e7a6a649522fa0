#!/usr/bin/env bash
# Regenerate every README sample marked `<!-- sample: ARGS -->` from the current binary
# (tests/readme_samples.rs checks them in the test suite).
set -euo pipefail
cd "$(dirname "$0")/.."
RCFG_BLESS=1 cargo test --locked -q --test readme_samples
git --no-pager diff --stat README.md
