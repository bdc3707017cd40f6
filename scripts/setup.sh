#!/usr/bin/env bash
# Shared set-up for serve.sh and test.sh: a virtual environment with the pinned requirements.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements-$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -r requirements-dev.txt
  rm -f .venv/.requirements-*
  touch "$stamp"
fi
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
