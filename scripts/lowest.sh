#!/usr/bin/env bash
# Install the lowest versions pyproject.toml allows for each direct dependency into .venv-lowest
# and run the unit suites there: proves the floors are true. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
venv=.venv-lowest
if [ ! -x "$venv/bin/uv" ]; then
    echo "creating $venv with uv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet uv
fi
echo "installing the lowest allowed direct dependencies"
"$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --resolution lowest-direct -e ".[test]"
"$venv/bin/uv" pip list --python "$venv/bin/python" 2>/dev/null \
    | grep -iE "^(aiohttp|redis|pydantic|pydantic-settings|pillow|sqlalchemy|aiortc|asyncpg|numpy) " || true
echo "== pytest (lowest versions)"
exec "$venv/bin/pytest" -m "not browser and not slow" -p no:cacheprovider "$@"
