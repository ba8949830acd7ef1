#!/usr/bin/env bash
# Set up .venv, migrate, seed demo data into an empty database, and serve.
# Honours JINGLIN_HOST, JINGLIN_PORT, JINGLIN_DATA_DIR, DATABASE_URL, REDIS_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/venv.sh
ensure_venv ""

export JINGLIN_HOST="${JINGLIN_HOST:-127.0.0.1}"
export JINGLIN_PORT="${JINGLIN_PORT:-8080}"

echo "migrating the database"
.venv/bin/jinglin migrate
echo "seeding demo data (first run only)"
.venv/bin/jinglin demo --if-empty
echo "starting the server (Ctrl-C stops)"
exec .venv/bin/jinglin serve
