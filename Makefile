# Two commands: `make run` (the app with a demo) and `make test` (the whole suite).
# `make manage ARGS="create_api_token serving --scopes ingest,read"` runs a manage.py command
# against the servers of the running `make run` (or starts the embedded ones for it).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test manage lint bench browser clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install -q --python $(PY) -r requirements-dev.txt
	touch $(STAMP)

browser:
	@command -v chromium >/dev/null 2>&1 || command -v $${VIGIL_CHROMIUM:-/usr/bin/chromium} >/dev/null 2>&1 || \
		{ echo "[vigil] installing Debian's chromium for the browser tests"; \
		  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

run: $(STAMP)
	$(PY) -m config.run

manage: $(STAMP)
	$(PY) manage.py $(ARGS)

test: $(STAMP) browser
	PYTHONUNBUFFERED=1 $(PY) -m config.embedded $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf var staticfiles
