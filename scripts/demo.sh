#!/usr/bin/env bash
# The main job on built-in sample media: installs ffmpeg if missing, builds
# framex, and runs `framex demo` (cold run, warm run, what was saved).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [[ ! -x target/release/framex ]]; then
  echo "demo: building framex (release). The first build takes about 3 minutes on 2 cores" >&2
  echo "demo: and about 1 GB of disk under target/; later runs start at once." >&2
fi
cargo build --release -p framex-executor
exec target/release/framex demo "$@"
