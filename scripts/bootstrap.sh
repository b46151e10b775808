#!/usr/bin/env bash
# Installs every Debian package that building and testing GROK needs.
# Idempotent: when everything is present it only runs one dpkg query and exits.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config clang clang-format libclang-rt-14-dev
  libsqlite3-dev sqlite3
  libexpected-dev nlohmann-json3-dev libvalijson-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libssl-dev libcurl4-openssl-dev python3
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev \
  libkainjow-mustache-dev libgumbo-dev
  libboost1.81-dev libhiredis-dev redis-server wrk
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done" >&2
