# Two commands on a fresh machine: `make demo` and `make test`.
#
# `make demo` installs kerasish with the one extra the demo needs (`demo`: scikit-learn's
# digits); `make test` adds everything else the tests, the docs and the linter use (`dev`, then
# visdom). Each install is remembered by a stamp file in .venv, so `make test` after
# `make demo` only adds what is missing, and either re-runs pip when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DEMO_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint format docs install install-demo clean bench

$(PY):
	$(PYTHON) -m venv $(VENV)

$(DEMO_STAMP): pyproject.toml | $(PY)
	$(PIP) install -e ".[demo]"
	touch $@

# visdom ships only an sdist whose setup.py imports pkg_resources, which setuptools>=81 no
# longer has: build it first, with its isolated build environment constrained to a setuptools
# that still has it (PIP_CONSTRAINT reaches the build environment; the venv keeps its own).
$(DEV_STAMP): pyproject.toml | $(PY)
	echo "setuptools<81" > $(VENV)/build-constraints.txt
	PIP_CONSTRAINT="$(CURDIR)/$(VENV)/build-constraints.txt" $(PIP) install "visdom>=0.2.4"
	$(PIP) install -e ".[dev,visdom]"
	touch $@ $(DEMO_STAMP)

install-demo: $(DEMO_STAMP)

install: $(DEV_STAMP)

demo: $(DEMO_STAMP)
	$(PY) examples/digits_cnn.py

lint: $(DEV_STAMP)
	$(PY) -m ruff check kerasish tests examples benchmarks
	$(PY) -m ruff format --check kerasish tests examples benchmarks

format: $(DEV_STAMP)
	$(PY) -m ruff format kerasish tests examples benchmarks
	$(PY) -m ruff check --fix kerasish tests examples benchmarks

docs: $(DEV_STAMP)
	$(PY) -m mkdocs build --strict

# The suite, and every docstring example of the package as a doctest (conftest.py gives them
# a small namespace: K, torch, nn, np, a compiled `model`, `x`, `y`, a temp working dir).
test: lint docs
	$(PY) -m pytest -q --doctest-modules tests kerasish

bench: $(DEV_STAMP)
	$(PY) benchmarks/overhead.py

clean:
	rm -rf $(VENV) runs logs site .pytest_cache .ruff_cache
