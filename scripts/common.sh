# Shared by scripts/run and scripts/test: install what is missing, then build.
# Honour a CARGO_TARGET_DIR set outside the tree so rebuilds and CI reuse it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chatfbtop-target}"
export PATH="$HOME/.cargo/bin:$PATH"
# Playwright must never download a browser: Debian's Chromium is used.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# Trunk 0.22 needs a newer rustc than this machine kind has.
TRUNK_VERSION="0.21.14"

# Each step says when it started, so a slow run shows where the time went.
step() { printf '\n==> [%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# The wasm-bindgen version pinned in Cargo.lock; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_wasm_bindgen() {
  local want have
  want="$(wasm_bindgen_version)"
  have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  if [ "$have" != "$want" ]; then
    step "installing wasm-bindgen-cli $want"
    # No --locked: one of its locked dependencies is missing from the registry.
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
}

ensure_trunk() {
  if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
    step "installing trunk $TRUNK_VERSION"
    cargo install --locked trunk --version "$TRUNK_VERSION" --force
  fi
}

# RocksDB's Rust binding runs bindgen, which needs libclang; its C++ build needs g++.
ensure_build_deps() {
  if ! ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || ! command -v g++ >/dev/null; then
    step "installing libclang and g++ (for the RocksDB engine's build)"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y libclang-dev g++
  fi
}

ensure_frontend_tools() {
  ensure_wasm_target
  ensure_wasm_bindgen
  ensure_trunk
}

build_frontend() {
  step "building the frontend (trunk, release, offline)"
  (cd "$ROOT" && trunk build --release --offline)
}

# Brotli 11 and gzip 9 copies of the built frontend, with the server binary
# given; prints the first load's size beside its 250 KB budget.
precompress_frontend() {
  step "compressing the frontend at maximum quality"
  "$1" site precompress --site-dir "$ROOT/dist"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    step "installing Debian's Chromium"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  fi
}

ensure_test_mail_server() {
  if ! python3 -c "import aiosmtpd" 2>/dev/null; then
    step "installing aiosmtpd (the SMTP server the mail tests start and stop)"
    python3 -m pip install --quiet --disable-pip-version-check aiosmtpd
  fi
}

ensure_end2end_packages() {
  step "installing the end2end npm packages (npm ci, from package-lock.json)"
  (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
}
