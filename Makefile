# Two commands: `make run` (stand-ins + local host on :7071) and `make test` (lint + every test).
# While changing code: `make unit` (the pure core and the use cases in memory, seconds) and `make fmt` (ruff format,
# then ruff's fixes: imports sorted, upgrades). `make test` refuses code that is not formatted or not typed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Test workers: one more than the cores. The tests wait on stand-ins and hosts (a run keeps ~1.6 cores busy
# with two workers), and each worker has stand-ins of its own.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

.PHONY: run test unit fmt deps lint bench clean browser-deps

run: deps
	$(PY) -m devhost

# The browser tests (tests/browser) drive Debian's chromium headless with Playwright: no browser is downloaded.
# PASTDUE_SKIP_BROWSER=1 leaves them out, said aloud, on a machine where chromium cannot be installed.
BROWSER_STAMP := .run/browser-deps.installed
ifeq ($(PASTDUE_SKIP_BROWSER),1)
PYTEST_BROWSER := --ignore=tests/browser
else
PYTEST_BROWSER :=
endif

test: deps .venv-checkov/.installed browser-deps
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	node_modules/.bin/redocly lint --config redocly.yaml docs/openapi.yaml
	.venv-checkov/bin/checkov --quiet --compact --skip-download --framework bicep -d infra
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_BROWSER)

browser-deps: $(BROWSER_STAMP)

$(BROWSER_STAMP):
	@if [ "$(PASTDUE_SKIP_BROWSER)" = 1 ]; then \
		echo "PASTDUE_SKIP_BROWSER=1: Debian's chromium not installed, tests/browser left out of make test"; \
	elif command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		mkdir -p $(dir $@) && touch $@; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver \
			&& mkdir -p $(dir $@) && touch $@; \
	else \
		echo "The browser tests need Debian's chromium and chromium-driver:" >&2; \
		echo "  sudo apt-get install -y chromium chromium-driver   (or PASTDUE_SKIP_BROWSER=1 to leave them out)" >&2; \
		exit 1; \
	fi

unit: $(VENV)/.installed
	$(PY) -m pytest -q tests/unit

fmt: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

deps: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

.venv-checkov/.installed: requirements-checkov.txt
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules .run

bench: deps
	$(PY) -m bench.cold_start
	$(PY) -m bench.core
	$(PY) -m bench.sweep
	$(PY) -m bench.sweep --shards 8 --processes 1 2 4
	$(PY) -m bench.capacity --ru-per-due 15 --cpu-ms-per-due 4.5
	$(PY) -m bench.update_payment
	$(PY) -m bench.drain
