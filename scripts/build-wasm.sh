#!/usr/bin/env bash
# Builds the framex-wasm package, installing what it needs first (see
# scripts/wasm-toolchain.sh), and writes:
#   wasm/www/pkg/   --target web     for the preview page (plus example.json)
#   wasm/pkg/node/  --target nodejs  for the parity tests
# Then checks that the module imports nothing but wasm-bindgen's glue.
# Idempotent; the build lives in target-wasm/, apart from the native one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-toolchain.sh
ensure_wasm_toolchain

started=$SECONDS
# Small and fast: the page downloads this module. Set here rather than in
# [profile.release] because only this build, in its own target dir, wants it.
CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
  CARGO_PROFILE_RELEASE_LTO=true \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
  CARGO_PROFILE_RELEASE_DEBUG=false \
  cargo_wasm build --release --locked -p framex-wasm

wasm="$WASM_TARGET_DIR/$WASM_TARGET/release/framex_wasm.wasm"
node scripts/check-wasm-imports.mjs "$wasm"

rm -rf wasm/www/pkg wasm/pkg/node
wasm-bindgen --target web --remove-name-section --out-dir wasm/www/pkg "$wasm"
wasm-bindgen --target nodejs --remove-name-section --out-dir wasm/pkg/node "$wasm"
node scripts/check-wasm-imports.mjs wasm/www/pkg/framex_wasm_bg.wasm wasm/pkg/node/framex_wasm_bg.wasm
# The page loads this on a first visit: one source of truth for the example.
cp examples/composition.json wasm/www/pkg/example.json

size=$(wc -c <wasm/www/pkg/framex_wasm_bg.wasm)
echo "build-wasm: wasm/www/pkg and wasm/pkg/node written ($((size / 1024)) KiB module, $((SECONDS - started)) s)"
