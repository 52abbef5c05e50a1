# Data Justa Notebooks — the two commands a newcomer needs are `make reports` and `make test`.
# Everything is installed into .venv from this repository's own files: requirements/lock.txt pins
# every dependency (pip and the build backend too) with its sha256 hashes, and pip refuses any
# file whose hash differs (--require-hashes); nothing is assumed pre-installed beyond
# Python >= 3.11 and make.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check
JOBS   ?=
ARGS   ?=

.PHONY: help setup reports synth test test-fast lint format lab bench lock lock-hashes browsers clean

help:
	@echo "make reports   set up .venv, generate the synthetic data and render the site into outputs/site/"
	@echo "make test      set up .venv, render the site and run the whole test suite (what CI runs)"
	@echo "make lab       open JupyterLab on notebooks/"
	@echo "make lint      ruff check + format check"
	@echo "make bench     run the benchmarks (see docs/benchmarks.md)"
	@echo "make lock      re-resolve and re-pin requirements/constraints.txt and the hashed requirements/lock.txt"

$(STAMP): pyproject.toml requirements/lock.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s); set PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
# every package, pip and setuptools included, from the hashed lock (a file whose hash differs is
# refused); then the project itself, built with that pinned setuptools (no unpinned build env)
	$(PIP) install --quiet --require-hashes -r requirements/lock.txt
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
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

# The suite reads the rendered site too (what a reader gets: no code in the text, no cross-unit
# totals, every download labelled), so the site is rendered first; unchanged pages are reused.
test: setup browsers synth
	$(BIN)/datajusta render
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

# Re-resolve every dependency from pyproject.toml in a scratch venv and pin exact versions
# (constraints.txt), then compile the hashed lock from them with pip-tools (lock.txt: every
# dependency of .[dev] plus pip and setuptools from requirements/lock.in, for this Python).
PIP_TOOLS := pip-tools==7.6.2
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e '.[dev]'
	.venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^-e' | grep -v '^setuptools==' > requirements/constraints.tmp
	(echo "# Exact versions of every dependency (make lock re-pins). The hashed install uses requirements/lock.txt."; cat requirements/constraints.tmp) > requirements/constraints.txt
	rm -f requirements/constraints.tmp
	.venv-lock/bin/python -m pip install --quiet $(PIP_TOOLS)
	.venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra dev \
	  --no-emit-index-url --no-emit-find-links --constraint requirements/constraints.txt \
	  --output-file requirements/lock.txt pyproject.toml requirements/lock.in
	rm -rf .venv-lock
	@echo "requirements/constraints.txt and requirements/lock.txt re-pinned; commit them."

# Re-compile only the hashed lock from the pinned constraints (after adding a dependency to
# pyproject.toml and its exact version to constraints.txt); versions do not move.
lock-hashes:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet $(PIP_TOOLS)
	.venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra dev \
	  --no-emit-index-url --no-emit-find-links --constraint requirements/constraints.txt \
	  --output-file requirements/lock.txt pyproject.toml requirements/lock.in
	rm -rf .venv-lock

clean:
	rm -rf outputs/site outputs/cache $(VENV)
