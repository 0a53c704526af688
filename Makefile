# Keel: `make demo` runs the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-16)

.PHONY: demo test lint pytest venv lock audit clean

$(STAMP): requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

venv: $(STAMP)

# The demo: SQLite and the filesystem broker, no server needed.
demo: venv
	KEEL_ENV=demo DATABASE_URL=sqlite:///$(CURDIR)/.var/demo.sqlite3 CELERY_BROKER_URL=filesystem:// \
		$(BIN)/python manage.py run_demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy backend frontend
	$(BIN)/lint-imports
	$(BIN)/bandit -q -c pyproject.toml -r backend frontend -ll
	$(BIN)/python manage.py makemigrations --check --dry-run

# pytest exits 5 when it collects no test; say so rather than fail silently or pass silently.
pytest: venv
	@DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; fi; exit $$rc

test: lint pytest

audit: venv
	$(BIN)/python .ci/audit.py

lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --universal --no-header -o requirements.lock
	uv pip compile pyproject.toml --generate-hashes --python-version 3.11 --universal --no-header -o requirements-prod.lock

clean:
	rm -rf .var $(VENV)
