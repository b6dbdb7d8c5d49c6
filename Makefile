# refreshauth: `make demo` runs the example project, `make test` the whole suite.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: demo test test-all bench lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e . --group test --group lint --group bench
	touch $(STAMP)

# The demo's access tokens live DEMO_ACCESS_SECONDS (the example's default is 15 minutes),
# so that the browser demo shows silent refreshes; its page can also play a token thief,
# and DPoP is allowed for its toggle.
DEMO_ACCESS_SECONDS ?= 20

demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demouser
	@sed -e 's/127.0.0.1:8000/$(HOST):$(PORT)/g' example_project/curl-demo.sh
	@echo "# Access tokens live $(DEMO_ACCESS_SECONDS) s here: paste the lines above together, or"
	@echo "# run make demo DEMO_ACCESS_SECONDS=900 for the example's default of 15 minutes."
	REFRESHAUTH_DEMO_ACCESS_SECONDS=$(DEMO_ACCESS_SECONDS) REFRESHAUTH_DEMO_THEFT=1 REFRESHAUTH_DPOP=allowed \
		$(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite on SQLite and the local-memory cache. With DATABASE_URL
# (postgres://...) and REDIS_URL (redis://...) set, the same suite runs against
# PostgreSQL and Redis, and the tests marked `concurrency` run too; .ci/run does both.
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Lint and both passes of the suite, PostgreSQL and Redis started as CI does (as root).
test-all:
	bash .ci/run

# refreshauth beside djangorestframework-simplejwt; `make bench QUICK=1` takes minutes.
# The load scenarios over HTTP need PostgreSQL: DATABASE_URL=postgres://..., or PG=1 for
# a throwaway PostgreSQL (and Redis) that the benchmark starts and stops itself.
# PROFILE=1 records a server worker of each load scenario with py-spy.
bench: $(STAMP)
	$(PY) bench/run.py $(if $(QUICK),--quick,) $(if $(PG),--postgres,) $(if $(PROFILE),--profile,)

lint: $(STAMP)
	$(VENV)/bin/ruff check refreshauth tests example_project bench noxfile.py
	$(VENV)/bin/ruff format --check refreshauth tests example_project bench noxfile.py
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format refreshauth tests example_project bench noxfile.py
	$(VENV)/bin/ruff check --fix refreshauth tests example_project bench noxfile.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache db.sqlite3* .cache
