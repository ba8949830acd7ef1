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
        echo "installing jinglin-bangban${extras:+[$extras]} into .venv (first run: 1-3 minutes)"
        .venv/bin/python -m pip install --quiet --upgrade pip
        # One line per package as pip collects it: progress instead of minutes of silence.
        .venv/bin/python -m pip install --progress-bar off -e ".${extras:+[$extras]}" \
            | { grep --line-buffered -E "^(Collecting|Successfully installed)" || true; } \
            | sed -u -e 's/^Collecting /  collecting /' -e 's/^Successfully installed.*/  installed/'
        rm -f .venv/.installed-*
        touch "$stamp"
    fi
}
