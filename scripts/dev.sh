#!/usr/bin/env bash
# adkit's two set-up commands. Each creates .venv when missing and installs what it needs.
#   bash scripts/dev.sh demo   install adkit and run the main demo (`adkit demo`)
#   bash scripts/dev.sh test   install adkit with test, docs and bench extras, then run the suite:
#                              ruff, pytest (unit tests and executed notebooks), mkdocs --strict
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${ADKIT_VENV:-.venv}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"

ensure_env() {  # $1: the extras to install, e.g. "test,docs" (empty for the runtime only)
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp
  stamp="$VENV/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)-${1//,/-}"
  if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".${1:+[$1]}"
    touch "$stamp"
  fi
}

case "${1:-}" in
  demo)
    ensure_env ""
    "$VENV/bin/adkit" demo
    ;;
  test)
    ensure_env "test,docs,bench"
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    # pytest exits 5 when it collected no test; `set -e` turns that (like any failure) into ours.
    "$VENV/bin/python" -m pytest -n 2 -q --durations=15
    # --strict fails on any warning; `--quiet` would hide the warnings from --strict too, so the
    # INFO lines are filtered here instead (pipefail keeps mkdocs' exit status)
    NO_MKDOCS_2_WARNING=1 "$VENV/bin/mkdocs" build --strict --site-dir "${TMPDIR:-/tmp}/adkit-site" 2>&1 \
      | { grep -v '^INFO ' || true; }
    echo "adkit: all checks passed"
    ;;
  *)
    echo "usage: bash scripts/dev.sh demo|test" >&2
    exit 2
    ;;
esac
