#!/usr/bin/env bash
# The wasm checks that need the wasm32 target (run after scripts/build-wasm.sh):
# clippy for wasm32 with -D warnings, and the wasm_bindgen_test tests of the
# exported API in node (wasm/tests/node.rs) and headless Chromium
# (wasm/tests/browser.rs). The parity and page tests run in `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-toolchain.sh
ensure_wasm_toolchain

if [[ $WASM_USE_DEBIAN_RUSTC -eq 1 ]]; then
  # clippy-driver belongs to the rustup toolchain and cannot read a std built
  # by Debian's rustc.
  echo "test-wasm: clippy for $WASM_TARGET skipped: no rustup wasm32 target (Debian rustc fallback)"
else
  # framex-core's own tests use proptest, which does not build for wasm32.
  cargo_wasm clippy --locked -p framex-core --lib -- -D warnings
  cargo_wasm clippy --locked -p framex-wasm --all-targets -- -D warnings
fi

export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
CHROMEDRIVER=$(command -v chromedriver)
export CHROMEDRIVER
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
# --tests: no doctests (there are none to run for wasm32, and under the Debian
# fallback rustdoc would be the rustup one).
cargo_wasm test --locked -p framex-wasm --tests
