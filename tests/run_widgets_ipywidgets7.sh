#!/usr/bin/env bash
# The widget unit tests a second time under ipywidgets 7.7 (what Google Colab ships), next to the
# venv's ipywidgets 8: ipywidgets 7.7 is installed without dependencies into build/ipywidgets7
# (gitignored), which goes first on PYTHONPATH and so shadows ipywidgets 8 for this run only.
# Selected: every test in tests/test_*widget*.py and every test with "widget" in its name.
# Usage: bash tests/run_widgets_ipywidgets7.sh [pytest args]; PYTHON=... picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python}"
DIR=build/ipywidgets7
PINS=(ipywidgets==7.7.5 widgetsnbextension==3.6.10 jupyterlab_widgets==1.1.11 ipython_genutils==0.2.0)
STAMP="$DIR/.installed-$(echo "${PINS[*]}" | tr ' =' '_-')"
if [ ! -f "$STAMP" ]; then
    rm -rf "$DIR"
    "$PY" -m pip install -q --disable-pip-version-check --no-deps --target "$DIR" "${PINS[@]}"
    touch "$STAMP"
fi
export PYTHONPATH="$PWD/$DIR${PYTHONPATH:+:$PYTHONPATH}"
"$PY" -c 'import ipywidgets, sys; v = ipywidgets.__version__; print(f"widget tests under ipywidgets {v} ({ipywidgets.__file__})"); sys.exit(0 if v.startswith("7.7") else f"expected ipywidgets 7.7, got {v}")'
export LECTUREKIT_PROGRESS="${LECTUREKIT_PROGRESS:-text}" MPLBACKEND="${MPLBACKEND:-Agg}"
exec "$PY" -m pytest -q -p no:cacheprovider -n "${LECTUREKIT_TEST_WORKERS:-2}" --dist loadfile tests --ignore=tests/browser -m "not browser" -k widget "$@"
