# Two entry points (see README): `make demo` and `make test`. Each creates
# .venv on first use and installs the pinned packages into it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-reliability lint clean-venv superset

$(STAMP): pyproject.toml requirements/lock.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/lock.txt -e '.[embed,dev,map]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/skinmap demo

# Headless Chromium (Debian package) and playwright-core for the report's browser test.
BROWSER_STAMP := tests/browser/node_modules/.installed
$(BROWSER_STAMP): tests/browser/package-lock.json
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	cd tests/browser && npm ci --no-audit --no-fund
	touch $(BROWSER_STAMP)

# Apache Superset in its own virtualenv (its pins clash with ours): `skinmap bi superset` and its test.
SUPERSET_VENV := .venv-superset
SUPERSET_STAMP := $(SUPERSET_VENV)/.installed
$(SUPERSET_STAMP):
	test -x $(SUPERSET_VENV)/bin/python || $(PY) -m venv $(SUPERSET_VENV)
	$(SUPERSET_VENV)/bin/python -m pip install --quiet 'apache-superset==6.1.0' 'psycopg2-binary==2.9.13' \
		'rich==15.0.0' 'cachetools==8.0.2' 'flask-caching==2.3.1'
	touch $(SUPERSET_STAMP)

superset: $(SUPERSET_STAMP)

test: $(STAMP) $(BROWSER_STAMP) $(SUPERSET_STAMP)
	$(BIN)/python -m pytest -q --durations=25 -m 'not reliability' tests

# The crash / concurrency / load suite (tests/test_crash_recovery.py): about 10 minutes, not in CI.
test-reliability: $(STAMP)
	$(BIN)/python -m pytest -q -m reliability tests

lint: $(STAMP)
	$(BIN)/python -m skinmap.sqllint

clean-venv:
	rm -rf $(VENV)
