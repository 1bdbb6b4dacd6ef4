#!/usr/bin/env bash
# Installs what Vesta needs to build, test and run on Debian 12, skipping what is present:
# Debian packages with apt-get (through sudo when not root) and the pinned npm packages with
# `npm ci`. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.74-dev libsimdjson-dev libsqlite3-dev libpq-dev zlib1g-dev libzstd-dev libcli11-dev libssl-dev libargon2-dev
  libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev libexpat1-dev libyaml-dev
  nodejs npm curl wrk python3 time gnuplot-nox postgresql sqlite3
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # A command provided outside dpkg (e.g. a newer node) counts as present.
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm packages (the FHIR R4 definitions; the web app's build and test tools), pinned by
# package-lock.json. The web app's tests drive Debian's chromium: no browser is downloaded.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
