#!/usr/bin/env bash
# What the OS must provide, installed from Debian's packages when missing:
#   chromium        headless browser tests and kaleido chart exports
#   fonts-noto-cjk  real Chinese glyphs on walls, screenshots and exports (no tofu boxes)
#   poppler-utils   pdftoppm, to check exported briefings render
#   python3-venv    the project's virtual environment
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# grep without -q reads all of fc-list: with -q, pipefail would see fc-list die of SIGPIPE
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || missing+=(fonts-noto-cjk)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
python3 -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
command -v fc-list >/dev/null 2>&1 || missing+=(fontconfig)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
