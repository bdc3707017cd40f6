#!/usr/bin/env bash
# One command from a fresh clone to a running service on the embedded default:
# virtual environment, pinned requirements, migrations, demo users (tokens printed), then the server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh serve
export FLASK_APP=wsgi
.venv/bin/flask --app wsgi db upgrade
.venv/bin/flask --app wsgi demo setup
PORT=${PORT:-5000}
# Embedded default: the periodic checks (outbox sweep, deadlines) run in a background loop.
.venv/bin/flask --app wsgi jobs tick --every 60 > instance/tick.log 2>&1 &
trap 'kill $! 2>/dev/null || true' EXIT
echo "callguard is starting on http://127.0.0.1:${PORT}/ (sign in at /login; Ctrl-C stops it)"
.venv/bin/flask --app wsgi run --host 127.0.0.1 --port "$PORT"
