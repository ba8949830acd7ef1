# Shared by run.sh and test.sh: make sure .venv exists and has the project installed.
# Usage: ensure_venv EXTRAS   (e.g. "" or "test,dev")

ensure_venv() {
    local extras="$1"
    local python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "creating .venv"
        "$python" -m venv .venv
    fi
    # Reinstall only when pyproject.toml or the extras changed: a stamp records what was installed.
    local stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-${extras//,/_}"
    if [ ! -f "$stamp" ]; then
        echo "installing jinglin-bangban${extras:+[$extras]} into .venv"
        .venv/bin/python -m pip install --quiet --upgrade pip
        if [ -n "$extras" ]; then
            .venv/bin/python -m pip install --quiet -e ".[$extras]"
        else
            .venv/bin/python -m pip install --quiet -e .
        fi
        rm -f .venv/.installed-*
        touch "$stamp"
    fi
}
