#!/usr/bin/env bash
# Shared set-up for serve.sh and test.sh: a virtual environment with the pinned requirements.
#   bash scripts/setup.sh serve   what serving needs: requirements.txt only
#   bash scripts/setup.sh test    the test tools too: requirements-dev.txt and the Node tools (Prism)
# Each part keeps its own stamp (a hash of its requirement files), so it is installed once and again
# only when those files change; serving never waits for test tools (issue 14.11).
set -euo pipefail
cd "$(dirname "$0")/.."
PURPOSE=${1:-test}
case "$PURPOSE" in serve|test) ;; *) echo "usage: setup.sh serve|test" >&2; exit 2 ;; esac
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi

# install_once NAME FILE: pip-install FILE unless NAME's stamp matches the hash of FILE and
# requirements.txt (which requirements-dev.txt includes with -r).
install_once() {
  local name=$1 file=$2
  local stamp
  stamp=.venv/.requirements-$name-$(cat requirements.txt "$file" | sha256sum | cut -c1-16)
  if [ ! -f "$stamp" ]; then
    .venv/bin/pip install --quiet --upgrade pip
    .venv/bin/pip install --quiet -r "$file"
    rm -f .venv/.requirements-"$name"-*
    touch "$stamp"
  fi
}

install_once serve requirements.txt
[ "$PURPOSE" = test ] || exit 0
install_once test requirements-dev.txt

# Node tools for the tests (Stoplight Prism serving Twilio's OpenAPI spec), pinned by package-lock.json.
# Reinstalled when node_modules is missing or the lock changed; skipped where npm is not installed
# (tests/test_twilio_prism.py then fails with a message saying so).
if [ -f package-lock.json ]; then
  if command -v npm >/dev/null 2>&1; then
    node_stamp=node_modules/.callguard-lock-$(sha256sum package-lock.json | cut -c1-16)
    if [ ! -f "$node_stamp" ]; then
      npm ci --no-audit --no-fund --loglevel=error
      touch "$node_stamp"
    fi
  else
    echo "setup: npm not found; Node test tools (Prism) not installed" >&2
  fi
fi
