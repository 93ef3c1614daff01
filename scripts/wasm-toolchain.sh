# shellcheck shell=bash
# Sourced by scripts/build-wasm.sh and scripts/test-wasm.sh: makes sure the
# wasm toolchain is there, idempotently, and defines `cargo_wasm`.
#
#   - Node.js (import check, parity tests), Chromium + ChromeDriver (browser tests);
#   - TypeScript's tsc, pinned in wasm/tests/ts/package.json (`npm ci`), which
#     checks the published types (wasm/tests/ts/README.md);
#   - the wasm32-unknown-unknown target: `rustup target add` under a timeout,
#     else Debian's rustc-web, which builds std for wasm32 with -Zbuild-std;
#   - wasm-bindgen-cli at exactly the version `wasm-bindgen` is pinned to in
#     the root Cargo.toml (the two must match).
#
# FRAMEX_WASM_TOOLCHAIN=debian forces the Debian fallback (to test it);
# FRAMEX_WASM_TARGET_DIR overrides the target directory (default target-wasm).

WASM_TARGET=wasm32-unknown-unknown
WASM_TARGET_DIR=${FRAMEX_WASM_TARGET_DIR:-target-wasm}
if [[ -d "$HOME/.cargo/bin" ]]; then export PATH="$HOME/.cargo/bin:$PATH"; fi

wasm_log() { echo "wasm: $*" >&2; }
wasm_sudo() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

wasm_apt_updated=0
wasm_apt_install() {
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if ! command -v apt-get >/dev/null; then
    wasm_log "please install: ${missing[*]} (no apt-get here)"
    return 1
  fi
  if [[ $wasm_apt_updated -eq 0 ]]; then
    wasm_sudo apt-get update -qq
    wasm_apt_updated=1
  fi
  wasm_log "installing ${missing[*]}"
  wasm_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The version `wasm-bindgen = "=X"` pins in [workspace.dependencies].
wasm_bindgen_pinned() {
  sed -n 's/^wasm-bindgen *= *"=\([0-9][0-9.]*\)".*/\1/p' Cargo.toml | head -n1
}

WASM_USE_DEBIAN_RUSTC=0
ensure_wasm_toolchain() {
  command -v node >/dev/null || wasm_apt_install nodejs
  command -v chromium >/dev/null || wasm_apt_install chromium
  command -v chromedriver >/dev/null || wasm_apt_install chromium-driver
  command -v npm >/dev/null || wasm_apt_install npm
  if [[ ! -x wasm/tests/ts/node_modules/.bin/tsc ]]; then
    wasm_log "installing tsc (npm ci in wasm/tests/ts)"
    npm ci --prefix wasm/tests/ts --no-audit --no-fund --loglevel=error >&2
  fi

  if [[ "${FRAMEX_WASM_TOOLCHAIN:-}" == debian ]]; then
    WASM_USE_DEBIAN_RUSTC=1
  elif command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$WASM_TARGET"; then
    :
  elif command -v rustup >/dev/null && timeout 300 rustup target add "$WASM_TARGET"; then
    :
  else
    wasm_log "rustup could not add $WASM_TARGET; falling back to Debian's rustc-web with -Zbuild-std"
    WASM_USE_DEBIAN_RUSTC=1
  fi
  if [[ $WASM_USE_DEBIAN_RUSTC -eq 1 ]]; then
    wasm_apt_install rustc-web rust-web-src lld-19
  fi

  local want have
  want=$(wasm_bindgen_pinned)
  if [[ -z "$want" ]]; then
    wasm_log "cannot read the pinned wasm-bindgen version (wasm-bindgen = \"=X\") from Cargo.toml"
    return 1
  fi
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [[ "$have" != "$want" ]]; then
    wasm_log "installing wasm-bindgen-cli $want (found: ${have:-none}); takes a few minutes"
    # Not --locked: a dependency locked by wasm-bindgen-cli 0.2.130 is gone from crates.io.
    cargo install --quiet --force wasm-bindgen-cli --version "$want"
  fi
}

# cargo for the wasm32 target, in its own target directory, with whichever
# toolchain ensure_wasm_toolchain found.
cargo_wasm() {
  local sub=$1
  shift
  if [[ $WASM_USE_DEBIAN_RUSTC -eq 1 ]]; then
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
      CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-19 \
      cargo "$sub" --target "$WASM_TARGET" --target-dir "$WASM_TARGET_DIR" \
      -Zbuild-std=std,panic_abort "$@"
  else
    cargo "$sub" --target "$WASM_TARGET" --target-dir "$WASM_TARGET_DIR" "$@"
  fi
}
