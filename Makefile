# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint venv clean browser

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

test: $(STAMP) lint browser
	$(PY) -m pytest

# The browser tests drive Debian's chromium through Playwright (never `playwright install`). Without it they
# skip with one line, except under CI=true, where they fail.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "browser tests need $(CHROMIUM): run 'sudo apt-get install chromium' (or make browser as root)"; fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy service device_adapters simulator schedules config
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
