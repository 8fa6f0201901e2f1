# The kit's commands. `make lab` for students, `make test` for developers and CI.
# TORCH is installed first so pip never picks a multi-GB CUDA build on a CPU machine;
# with a GPU, run e.g. `make lab TORCH="torch --index-url https://download.pytorch.org/whl/cu124"`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: lab install system-packages test fast browser widgets7 lint student benchmarks site clean

$(VENV)/.lab-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[lab]"
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.lab-installed
	$(PY) -m pip install -q -e ".[test,browser,instructor,site]"
	touch $@

$(VENV)/.site-installed: pyproject.toml $(VENV)/.lab-installed
	$(PY) -m pip install -q -e ".[site]"
	touch $@

## What the site takes from npm (ONNX Runtime Web, MathJax), as locked in web/package-lock.json.
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --ignore-scripts

install: $(VENV)/.lab-installed

## Open the course (student notebooks) in JupyterLab.
## JupyterLab refuses to start as root (containers, some lab machines) unless told: say it only there.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: install
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) notebooks/

## What the tests need from the system (bubblewrap, chromium): installed when missing and possible, else
## stops with the command to run.
system-packages:
	bash tests/system_packages.sh

## Everything CI runs: lint, notebooks in sync, unit tests, every solution notebook under nbval, browser tests,
## the grading sandbox under attack.
test: system-packages $(VENV)/.test-installed web/node_modules/.package-lock.json
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash tests/run_all.sh $(PYTEST_ARGS)

## The fast suite: unit tests only (no notebooks, no browser, no slow training).
fast: $(VENV)/.test-installed
	$(PY) -m pytest -q -m "not slow and not browser" tests $(PYTEST_ARGS)

## Only the browser tests (JupyterLab in headless /usr/bin/chromium; screenshots in tests/screenshots/).
browser: system-packages $(VENV)/.test-installed web/node_modules/.package-lock.json
	LECTUREKIT_REQUIRE_BROWSER=1 $(PY) -m pytest -q -m browser tests/browser $(PYTEST_ARGS)

## Only the widget unit tests under ipywidgets 7.7 (Colab's version).
widgets7: $(VENV)/.test-installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash tests/run_widgets_ipywidgets7.sh $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

student: install
	$(PY) -m lecturekit student

benchmarks: $(VENV)/.test-installed web/node_modules/.package-lock.json
	$(PY) benchmarks/run.py

## The course website in build/site: every notebook executed (cached in build/site-cache), three languages,
## live figures. Serve it with `python -m http.server -d build/site`. SITE_ARGS="--solutions" for the instructors'.
SITE_ARGS ?=
site: $(VENV)/.site-installed web/node_modules/.package-lock.json
	$(PY) -m lecturekit site --out build/site $(SITE_ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache
