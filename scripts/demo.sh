#!/usr/bin/env bash
# The main job on built-in sample media: installs ffmpeg if missing, builds
# framex, and runs `framex demo` (cold run, warm run, what was saved).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet -p framex-executor
exec target/release/framex demo "$@"
