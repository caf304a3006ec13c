#!/usr/bin/env bash
# Installs what kvabench needs and is missing; idempotent and quiet when nothing is missing.
#   Debian packages: C/C++ libraries and tools.
#   PyPI (into .venv/): Python packages, plus Unicorn and Capstone, whose wheels carry the
#   C headers and shared libraries we link against (see docs/dependencies.md for why).
# --fuzz also installs clang and its compiler runtime (libFuzzer, sanitizers) for `make fuzz`;
# nothing else needs clang.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev llvm g++ make)
for arg in "$@"; do
  case "$arg" in
    --fuzz) DEBIAN_PACKAGES+=(clang libclang-rt-dev) ;;
    *) echo "deps: unknown option $arg (use --fuzz)" >&2; exit 2 ;;
  esac
done
PYTHON=${PYTHON:-python3}
VENV=.venv
REQS=scripts/requirements.txt

missing=()
command -v cmake >/dev/null || missing+=(cmake)
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing Debian packages: ${missing[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "deps: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.requirements.stamp"
if [ ! -f "$stamp" ] || ! cmp -s "$REQS" "$stamp"; then
  echo "deps: installing Python packages from $REQS"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r "$REQS"
  cp "$REQS" "$stamp"
fi
