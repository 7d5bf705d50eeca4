# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(VENV)/bin/tmsops migrate
	$(VENV)/bin/tmsops seed-demo
	$(VENV)/bin/tmsops run-demo --host 127.0.0.1 --port 8000

test: $(STAMP) lint
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy service device_adapters simulator schedules config

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
