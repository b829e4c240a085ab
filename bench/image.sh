#!/usr/bin/env bash
# Image pipeline time per upload of a 4000x3000 JPEG (release build, median of runs).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --example image_pipeline -- "${1:-9}"
