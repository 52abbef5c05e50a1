# Data Justa Notebooks — the two commands a newcomer needs are `make reports` and `make test`.
# Everything is installed into .venv from this repository's own files
# (pyproject.toml + the pinned requirements/constraints.txt); nothing is assumed pre-installed
# beyond Python >= 3.11 and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check
JOBS   ?=
ARGS   ?=

.PHONY: help setup reports synth test test-fast lint format lab bench lock browsers clean

help:
	@echo "make reports   set up .venv, generate the synthetic data and render the site into outputs/site/"
	@echo "make test      set up .venv and run the whole test suite (what CI runs)"
	@echo "make lab       open JupyterLab on notebooks/"
	@echo "make lint      ruff check + format check"
	@echo "make bench     run the benchmarks (see docs/benchmarks.md)"
	@echo "make lock      re-resolve and re-pin requirements/constraints.txt"

$(STAMP): pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s); set PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c requirements/constraints.txt -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name datajusta --display-name "Python (datajusta)" >/dev/null
	@touch $(STAMP)

setup: $(STAMP)

synth: setup
	$(BIN)/datajusta synth --if-missing

reports: synth
	$(BIN)/datajusta render $(if $(JOBS),--jobs $(JOBS)) $(ARGS)
	@echo "Open outputs/site/index.html"

browsers:
	@bash scripts/install_browser.sh

test: setup browsers synth
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(ARGS)

test-fast: setup
	$(BIN)/python -m pytest -n 2 -m "not notebook and not browser" $(ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lab: synth
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: synth
	$(BIN)/python benchmarks/run_all.py

# Re-resolve every dependency from pyproject.toml in a scratch venv and pin exact versions.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e '.[dev]'
	.venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements/constraints.txt
	rm -rf .venv-lock
	@echo "requirements/constraints.txt re-pinned; commit it."

clean:
	rm -rf outputs/site outputs/cache $(VENV)
