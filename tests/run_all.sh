#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it (the venv's bin/ is first on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m ruff check .
python -m lecturekit student --check
export LECTUREKIT_PROGRESS=text MPLBACKEND=Agg
python -m pytest -q -p no:cacheprovider tests --nbval-lax solutions "$@"
