# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint venv clean browser test-moved-date bench bench-tools lock

venv: $(STAMP)

# Installed at the versions in constraints.txt, the ones CI tested: a new release of a dependency reaches the
# service only through a commit of that file (`make lock`), never by the day a machine happened to install.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# Newest releases of everything pyproject.toml allows, written to constraints.txt (test and bench extras).
lock:
	rm -rf var/lock-venv && $(PYTHON) -m venv var/lock-venv
	var/lock-venv/bin/pip install --quiet --upgrade pip
	var/lock-venv/bin/pip install --quiet '.[test,bench]'
	{ sed -n '1,3p' constraints.txt; var/lock-venv/bin/pip freeze --exclude-editable | grep -v '^tmsops'; } > var/constraints.new
	mv var/constraints.new constraints.txt && rm -rf var/lock-venv
	@echo "constraints.txt refreshed: run make test (and CI=true bash .ci/run) before committing it"

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

# The same suite with the wall clock moved (default a year ahead) by Debian's libfaketime, so no test can pass or
# fail with today's date. The monotonic clock stays real, and a small preload (tests/moved_date/sleep_shim.c)
# passes sleeps straight to the kernel, because libfaketime 0.9.10 breaks Python's timed sleeps otherwise.
MOVE ?= +365d
LIBFAKETIME = /usr/lib/$(shell $(CC) -print-multiarch)/faketime/libfaketime.so.1
test-moved-date: $(STAMP) lint browser
	@test -e $(LIBFAKETIME) || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime; } || \
		{ echo "need Debian's libfaketime: sudo apt-get install faketime"; exit 1; }
	mkdir -p var
	$(CC) -shared -fPIC -O2 -o var/sleep_shim.so tests/moved_date/sleep_shim.c
	FAKETIME="$(MOVE)" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$(CURDIR)/var/sleep_shim.so:$(LIBFAKETIME)" \
		$(PY) -c 'import datetime; print("moved date: today is", datetime.date.today())'
	FAKETIME="$(MOVE)" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$(CURDIR)/var/sleep_shim.so:$(LIBFAKETIME)" \
		$(PY) -m pytest $(PYTEST_ARGS)

# The benchmarks (README, "Benchmarks"): Debian's wrk drives HTTP, OR-Tools (the `bench` extra) computes the
# planner's exact optimum. Never part of `make test`. BENCH_DB=postgresql://... adds the PostgreSQL runs.
BENCH_STAMP := $(VENV)/.bench-installed
bench-tools: $(BENCH_STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } || \
		{ echo "bench.api needs Debian's wrk: sudo apt-get install wrk"; exit 1; }

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,bench]'
	touch $(BENCH_STAMP)

BENCH_DB ?=
bench: bench-tools
	$(PY) -m bench.api $(if $(BENCH_DB),--database-url $(BENCH_DB))
	$(PY) -m bench.read_path
	$(if $(BENCH_DB),$(PY) -m bench.read_path --database-url $(BENCH_DB))
	$(PY) -m bench.ingest
	$(if $(BENCH_DB),$(PY) -m bench.ingest --database-url $(BENCH_DB))
	$(PY) -m bench.booking
	$(if $(BENCH_DB),$(PY) -m bench.booking --database-url $(BENCH_DB))
	$(PY) -m bench.device --runs 200
	$(PY) -m bench.planning

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy service device_adapters simulator schedules config
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
