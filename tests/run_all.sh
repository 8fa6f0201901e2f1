#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it (the venv's bin/ is first on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m ruff check .
python -m ruff format --check .
python -m lecturekit student --check
export LECTUREKIT_PROGRESS=text MPLBACKEND=Agg
# the browser tests (tests/browser, JupyterLab in headless Chromium) must run here: fail, never skip
export LECTUREKIT_REQUIRE_BROWSER=1
# and so must the grading sandbox's (bubblewrap): its attack suite fails, never skips
export LECTUREKIT_REQUIRE_SANDBOX=1
# nbval runs every notebook under solutions/: the English sources and the generated Chinese editions
# (solutions/zh_CN/, solutions/zh_TW/: pytest collects the subfolders)
# two workers (pytest-xdist), each taking a group of tests at a time, longest first (tests/xdist_schedule.py: most
# groups are files, so that a module's fixtures, a graded run or a built site, are made once); much of the suite
# waits on kernels, browsers and time limits, which the other worker fills
python -m pytest -q -p no:cacheprovider -n "${LECTUREKIT_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder tests --nbval-lax solutions "$@"
# the widget unit tests again under ipywidgets 7.7, what Colab ships
bash tests/run_widgets_ipywidgets7.sh
