# Two commands: `make run` (stand-ins + local host on :7071) and `make test` (lint + every test).
# While changing code: `make unit` (the pure core and the use cases in memory, seconds) and `make fmt` (ruff format,
# then ruff's fixes: imports sorted, upgrades). `make test` refuses code that is not formatted or not typed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Test workers: one more than the cores. The tests wait on stand-ins and hosts (a run keeps ~1.6 cores busy
# with two workers), and each worker has stand-ins of its own.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

# Browsers: tests/browser (the portal, Playwright) and the notice layout test drive Debian's chromium headless;
# no browser is downloaded. `make test` installs chromium and chromium-driver (as root with apt-get) and stops
# with how to install them where it cannot, unless PASTDUE_SKIP_BROWSER=1: then tests/browser is left out and
# the layout test skipped, said aloud.
PASTDUE_SKIP_BROWSER ?=
export PASTDUE_SKIP_BROWSER
BROWSER_STAMP := .run/browser-deps.installed
ifeq ($(PASTDUE_SKIP_BROWSER),1)
PYTEST_BROWSER := --ignore=tests/browser
else
PYTEST_BROWSER :=
endif

.PHONY: run test unit quick fmt deps browser-deps lint bench clean portal-site

run: deps
	$(PY) -m devhost

test: deps .venv-checkov/.installed $(if $(filter 1,$(PASTDUE_SKIP_BROWSER)),,browser-deps)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	node_modules/.bin/redocly lint --config redocly.yaml docs/openapi.yaml
	.venv-checkov/bin/checkov --quiet --compact --skip-download --framework bicep -d infra
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_BROWSER)

unit: $(VENV)/.installed
	$(PY) -m pytest -q tests/unit

# Every test but those marked slow (pyproject.toml's markers): the middle loop between `make unit` and `make test`.
quick: $(VENV)/.installed
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal -m "not slow" $(PYTEST_BROWSER)

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

browser-deps: $(BROWSER_STAMP)

$(BROWSER_STAMP):
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium chromium-driver; \
	else \
		echo "make test needs headless Chromium for tests/browser and the notice layout test, and cannot install it" \
			"here (it needs root and apt-get). Install Debian's packages: sudo apt-get update &&" \
			"sudo apt-get install chromium chromium-driver (elsewhere: a chromium on PATH)," \
			"or run without them: make test PASTDUE_SKIP_BROWSER=1" >&2; \
		exit 1; \
	fi
	@command -v chromium >/dev/null || { echo "chromium is still not on PATH after the install" >&2; exit 1; }
	mkdir -p $(@D)
	touch $@

# The portal as azd deploys it to its Static Web App (azure.yaml's prepackage hook runs this): portal/, MSAL Browser
# from node_modules (vendored at package time, never committed) and config.json from the azd environment's values.
portal-site: node_modules/.installed
	$(PYTHON) -m scripts.portal_site --out .run/portal-site

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
