#!/usr/bin/env bash
# Set up .venv with the test extras and run every check: lint, types, and all test suites.
# Suites that need PostgreSQL/Redis servers run against both the embedded defaults and the
# servers (JINGLIN_TEST_DATABASE_URL / JINGLIN_TEST_REDIS_URL); with CI=true an unreachable
# server fails the run instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/venv.sh
ensure_venv "test,dev"

# Browser tests drive Debian's chromium; install it (and CJK fonts for readable screenshots).
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk"; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium and CJK fonts with apt"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
    else
        echo "warning: chromium is missing and this user cannot apt-get install it" >&2
    fi
fi

# The topology test (tests/test_topology.py) runs the deploy/ files with Debian's nginx and coturn.
if [ ! -x /usr/sbin/nginx ] || [ ! -x /usr/bin/turnserver ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing nginx and coturn with apt"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx coturn >/dev/null
    else
        echo "warning: nginx or coturn is missing and this user cannot apt-get install them" >&2
    fi
fi

# The browser code is linted by the ESLint that package-lock.json pins (node_modules is not committed;
# `npm ci` installs it again whenever the lock file changes).
echo "== eslint"
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing node and npm with apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    lock_stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
    if [ ! -f "$lock_stamp" ]; then
        npm ci --no-audit --no-fund --loglevel=error
        touch "$lock_stamp"
    fi
    node_modules/.bin/eslint
elif [ "${CI:-}" = "true" ]; then
    echo "error: node and npm are needed to lint the browser code (apt-get install -y nodejs npm)" >&2
    exit 1
else
    echo "warning: node or npm is missing: the browser code is not linted" >&2
fi
echo "== ruff"
.venv/bin/ruff check .
echo "== mypy"
.venv/bin/mypy
echo "== import layers"
.venv/bin/lint-imports --no-cache
echo "== pytest"
# The suites spend much of their time waiting on servers, browsers and timers: two worker processes
# (pytest-xdist, one module per worker at a time) take well under half the time of one on two cores.
# JINGLIN_TEST_WORKERS=0 runs them in this process.
set +e
.venv/bin/pytest -n "${JINGLIN_TEST_WORKERS:-2}" --dist loadfile "$@"
status=$?
set -e
if [ "$status" = "5" ]; then
    echo "error: pytest collected no tests" >&2
fi
exit "$status"
