# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint format install clean bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/digits_cnn.py

lint: $(STAMP)
	$(PY) -m ruff check kerasish tests examples benchmarks
	$(PY) -m ruff format --check kerasish tests examples benchmarks

format: $(STAMP)
	$(PY) -m ruff format kerasish tests examples benchmarks
	$(PY) -m ruff check --fix kerasish tests examples benchmarks

test: lint
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/overhead.py

clean:
	rm -rf $(VENV) runs logs .pytest_cache .ruff_cache
