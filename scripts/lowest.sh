#!/usr/bin/env bash
# Install the lowest versions pyproject.toml allows for each direct dependency into .venv-lowest
# and run the unit suites there: proves the floors are true. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
venv=.venv-lowest
# Suites that exercise each direct dependency (aiohttp, redis internals, SQLAlchemy on both
# databases, pydantic settings, Pillow, OpenCV, aiortc, reportlab, segno) without browsers or long runs.
UNIT_SUITES=(
    tests/test_settings.py tests/test_forwarded.py tests/test_ice.py tests/test_auth.py tests/test_passwords.py
    tests/test_queue_scripts.py tests/test_queue_service.py tests/test_migrations.py tests/test_app_basics.py
    tests/test_capture_units.py tests/test_quality_guidance.py tests/test_catalog_search.py tests/test_serve.py
    tests/test_acceptance_units.py
)
if [ ! -x "$venv/bin/uv" ]; then
    echo "creating $venv with uv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet uv
fi
echo "installing the lowest allowed direct dependencies"
"$venv/bin/uv" pip compile --quiet --resolution lowest-direct --python "$venv/bin/python" --extra test \
    pyproject.toml -o "$venv/requirements.txt"
"$venv/bin/uv" pip sync --quiet --python "$venv/bin/python" "$venv/requirements.txt"
"$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps -e .
grep -iE "^(aiohttp|redis|pydantic|pydantic-settings|pillow|sqlalchemy|aiortc|asyncpg|numpy)==" "$venv/requirements.txt" \
    | tr '\n' ' '
echo
echo "== pytest (lowest versions)"
# Two worker processes as in scripts/test.sh (JINGLIN_TEST_WORKERS=0: one process).
exec "$venv/bin/pytest" -p no:cacheprovider -n "${JINGLIN_TEST_WORKERS:-2}" --dist loadfile \
    -m "not browser and not slow" "${UNIT_SUITES[@]}" "$@"
