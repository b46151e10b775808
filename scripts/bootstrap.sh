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
  prometheus chromium
  postgresql libpq-dev
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

# `prometheus` is here for /usr/bin/promtool (the tests run `promtool check metrics`); its
# server is not wanted. Packages start their services through invoke-rc.d, which asks
# /usr/sbin/policy-rc.d first: while installing, a policy that answers 101 ("action
# forbidden") keeps prometheus, postgresql (and redis-server) from starting. An existing policy (Docker
# images ship one) is left as it is. Servers that start anyway (an init that ignores the
# policy) are stopped below by process id: only those that were not running before.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# bootstrap.sh: no service starts while packages install\nexit 101\n' |
    "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod 755 "$policy"
  added_policy=1
fi
remove_policy() { if ((added_policy)); then "${sudo_cmd[@]}" rm -f "$policy"; fi; }
trap remove_policy EXIT
# Package servers: prometheus, and the postmaster of Debian's default PostgreSQL cluster
# (the tests make their own clusters with initdb in temp dirs).
package_servers() { { pgrep -x prometheus; pgrep -f '^/usr/lib/postgresql/[0-9]+/bin/postgres -D /var/lib/postgresql/'; } || true; }
before=" $(package_servers | tr '\n' ' ') "

"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

for pid in $(package_servers); do
  if [[ $before != *" $pid "* ]]; then
    echo "bootstrap: stopping the server a package started (pid $pid)" >&2
    if [[ -d /run/systemd/system ]]; then
      "${sudo_cmd[@]}" systemctl disable --now prometheus.service postgresql.service >/dev/null 2>&1 || true
    fi
    "${sudo_cmd[@]}" kill -INT "$pid" 2>/dev/null || true
  fi
done
echo "bootstrap: done" >&2
