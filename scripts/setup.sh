#!/usr/bin/env bash
# Install what listwatch needs on a Debian/Ubuntu machine, then the package into .venv.
#   scripts/setup.sh        runtime: ICU headers and a compiler (PyICU builds from source)
#   scripts/setup.sh dev    also PostgreSQL, Chromium and Java for the test suite
# System packages are installed only when missing (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"

packages=(libicu-dev pkg-config g++ python3-venv)
if [ "$mode" = "dev" ]; then
  packages+=(postgresql chromium fonts-noto-cjk)
  command -v java >/dev/null 2>&1 || packages+=(openjdk-17-jre-headless)
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "listwatch setup: installing system packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "listwatch setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
extra=""
[ "$mode" = "dev" ] && extra="[dev]"
stamp=".venv/.listwatch-installed-$(cat pyproject.toml | sha256sum | cut -c1-16)${mode}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}"
  rm -f .venv/.listwatch-installed-*"${mode}"
  touch "$stamp"
fi
# Screening's compiled kernels: compiled once here (about a minute), loaded from cache later.
.venv/bin/python -m listwatch.screening.kernels
echo "listwatch setup: ready ($(.venv/bin/python -c 'import listwatch; print(listwatch.__version__)'))"
