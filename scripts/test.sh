#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what it needs
# (ffmpeg, clippy/rustfmt, the wasm32 target, wasm-bindgen-cli, Chromium),
# then formatting, clippy (native and wasm32), the wasm build, and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}"            # insta: never accept new or changed snapshots silently
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { echo; echo "==> $*"; }

step "setup"
scripts/setup.sh --test

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "wasm package (installs the wasm32 target and wasm-bindgen-cli if missing)"
scripts/build-wasm.sh

step "cargo test --workspace"
cargo test --workspace --locked

step "wasm tests (node and headless Chromium)"
scripts/test-wasm.sh

echo
echo "framex: all checks passed"
