# Two commands do everything on a fresh machine with Python 3 and make:
#   make run    install into .venv, migrate, load demo data, serve on SQLite: http://127.0.0.1:8000/
#               (the web application; the API's Swagger at /docs)
#   make test   the whole suite on SQLite (make test-postgres: again on PostgreSQL)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_TEST_URL ?= postgresql+psycopg://root@127.0.0.1:5432/postgres

.PHONY: install run serve test test-postgres quick fuzz lint lock bench screenshots clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/nrm db upgrade
	$(BIN)/nrm demo
	$(BIN)/nrm serve

serve: install
	$(BIN)/nrm serve

test: install
	$(BIN)/pytest -q

test-postgres: install
	NRM_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q

quick: install
	$(BIN)/pytest -q -m "not slow and not browser and not fuzz and not faults"

fuzz: install
	$(BIN)/pytest -q -m fuzz

screenshots: install
	$(BIN)/python -m bench.screenshots

lint: install
	$(BIN)/ruff check service workflows schemas tests bench
	$(BIN)/ruff format --check service workflows schemas tests bench
	$(BIN)/mypy service workflows schemas tests

lock: install
	$(BIN)/uv pip compile pyproject.toml requirements-build.in --extra dev --generate-hashes \
		--universal --python-version 3.11 -o requirements.lock

bench: install
	@command -v wrk >/dev/null || { echo "make bench needs wrk, the HTTP load generator: apt-get install wrk"; exit 2; }
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) nrm.db nrm.db-wal nrm.db-shm nrm.db.keys.json .pytest_cache .mypy_cache .ruff_cache
