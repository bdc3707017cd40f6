#!/usr/bin/env bash
# One command from a fresh clone to the whole test suite. Locally: SQLite and fakeredis.
# With CI=true: the machine's PostgreSQL and Redis (the suite fails if either is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
exec .venv/bin/python -m pytest "$@"
