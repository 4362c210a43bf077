#!/usr/bin/env bash
# Set up everything the project needs, idempotently: a virtual environment in .venv with the
# project and its test and docs extras, Debian's chromium for the browser tests and a Korean font for the
# Korean edition (fonts-nanum: without one, Hangul is drawn as empty boxes), KaTeX from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
# torch 2.13.0 is the version the semantics reference was measured on (and a quick local install
# where a CPU wheel is cached); the project itself accepts torch >= 2.4.
.venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==${TORCH_VERSION:-2.13.0}" -e ".[test,docs]"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -n "$(fc-list :lang=ko 2>/dev/null)" ] || missing+=(fonts-nanum)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ -f package.json ] && command -v npm >/dev/null 2>&1; then
    npm ci --silent --no-audit --no-fund
fi
