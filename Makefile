# Mawa: two commands.
#   make run    set up and serve Mawa on http://127.0.0.1:8000 (SQLite in ./var, demo loaded)
#   make test   set up everything the tests need and run the whole suite
# Installs exactly the versions pinned in requirements.lock.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEBIAN_TEST_PACKAGES := chromium postgresql gettext fonts-noto-core poppler-utils

.PHONY: run test test-sqlite test-postgres lint typecheck system-deps system-deps-run clean

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Mawa needs Python 3.11 ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# WeasyPrint (PDF receipts, ID cards, reports) needs Pango from the system.
system-deps-run:
	@if ! ldconfig -p | grep -q libpangoft2-1.0.so.0; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages: libpango-1.0-0 libpangoft2-1.0-0"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; \
	  else echo "missing Debian packages: libpango-1.0-0 libpangoft2-1.0-0 (needed for PDFs)"; exit 1; fi; \
	fi

run: $(STAMP) system-deps-run
	$(BIN)/mawa setup
	@echo ""
	@echo "Mawa is serving on http://$(HOST):$(PORT)/  (show the accounts again: $(BIN)/mawa demo --accounts)"
	@# the web server and a background-job worker together: stopping one stops both (mawa serve)
	exec $(BIN)/mawa serve --bind $(HOST):$(PORT) --workers 3 \
		--access-logfile - --error-logfile - --timeout 120 \
		--access-logformat '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

# Debian packages the tests need: the browser, a PostgreSQL server for the throwaway cluster,
# gettext (catalogue completeness check), fonts with Arabic glyphs, pdftoppm.
system-deps: system-deps-run
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v xgettext >/dev/null || missing="$$missing gettext"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	[ -e /usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf ] || missing="$$missing fonts-noto-core"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (install them as root, then run make test again)"; exit 1; fi; \
	fi

# ruff, then the architecture: the import-linter contracts of pyproject.toml (layers, the pure
# names library, the sealed compartment, no loop between apps).
lint: $(STAMP)
	$(BIN)/ruff check mawa tests bench
	$(BIN)/lint-imports --no-cache --no-logo

# mypy with django-stubs over the services, selectors and API modules ([tool.mypy] in
# pyproject.toml)
typecheck: $(STAMP)
	$(BIN)/mypy

test-sqlite: $(STAMP) system-deps
	$(BIN)/mawa compiletranslations
	$(BIN)/python -m pytest tests -q -m "not field_ops"

# The same database tests on PostgreSQL, in a throwaway cluster started and stopped by
# tests/pgcluster.py (initdb + pg_ctl on a free port under a temporary directory). The demo at
# full size is `make run`'s, on SQLite (tests/reports/test_demo.py there); on PostgreSQL the
# same story replays at 300 persons with the consistency checks after every day
# (tests/test_scenario.py).
test-postgres: $(STAMP) system-deps
	$(BIN)/mawa compiletranslations
	$(BIN)/python tests/pgcluster.py -- $(BIN)/python -m pytest tests -q -m "not browser and not full_demo" --ignore=tests/names

test: lint typecheck test-sqlite test-postgres

clean:
	rm -rf $(VENV) var/static
