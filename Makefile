# samverkan: `make demo` runs the service with demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: migration demo test test-sqlite test-postgres lint format typecheck bench clean

$(BIN)/samverkan: pyproject.toml
	@echo "== Skapar Python-miljön i $(VENV)…"
	$(PYTHON) -m venv $(VENV)
	@echo "== Installerar beroenden (1–2 minuter)…"
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(BIN)/samverkan
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# SAMVERKAN_PORT=8081 make demo serves on another port (the printed links follow it).
demo: $(BIN)/samverkan
	@echo "== Uppdaterar databasen (data/samverkan.db)…"
	$(BIN)/samverkan migrate
	@echo "== Läser in demodata (fiktiva personer)…"
	$(BIN)/samverkan demo-data
	@echo "== Startar samverkan på adressen ovan (stoppa med Ctrl+C)…"
	$(BIN)/samverkan serve

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(VENV)/.dev
	$(BIN)/mypy core reports storage services intake bot app

test-sqlite: $(VENV)/.dev
	env -u SAMVERKAN_TEST_DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider

test-postgres: $(VENV)/.dev
	SAMVERKAN_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q -p no:cacheprovider

# The whole suite: lint, types, then the tests on SQLite and (when SAMVERKAN_TEST_DATABASE_URL
# is set, as CI does) again on PostgreSQL.
test: lint typecheck test-sqlite
	@echo "== tests above ran on SQLite"
	@if [ -n "$$SAMVERKAN_TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$SAMVERKAN_TEST_DATABASE_URL)"; \
	  $(BIN)/pytest -q -p no:cacheprovider; \
	else echo "(set SAMVERKAN_TEST_DATABASE_URL=$(PG_TEST_URL) to run on PostgreSQL too)"; fi

bench: $(VENV)/.dev
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info

# Regenerate the initial migration from the models (allowed until the first release).
# Hand-written migrations (0002 on) step aside while 0001 is regenerated, then come back.
migration: $(VENV)/.dev
	rm -f storage/migrations/versions/0001_*.py /tmp/samverkan-migration.db
	later=$$(mktemp -d) && for f in storage/migrations/versions/0*_*.py; do [ -e "$$f" ] && mv "$$f" "$$later"/; done; \
	$(BIN)/python -c "from storage.migrate import alembic_config; from alembic import command; command.revision(alembic_config('sqlite+aiosqlite:////tmp/samverkan-migration.db'), message='initial schema', autogenerate=True, rev_id='0001')"; \
	status=$$?; mv "$$later"/*.py storage/migrations/versions/ 2>/dev/null; rmdir "$$later"; exit $$status
	rm -f /tmp/samverkan-migration.db
