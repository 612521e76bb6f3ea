# Two commands set everything up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
REDIS_URL ?= redis://127.0.0.1:6379/0
export REDIS_URL

.PHONY: install run test lint bench chaos fuzz image-check clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

instance/secret_key:
	mkdir -p instance
	umask 077 && $(PY) -c 'import secrets; print(secrets.token_urlsafe(32))' > $@

## run: the service, its worker and an embedded SQLite database on http://127.0.0.1:8000
run: install instance/secret_key
	scripts/ensure-redis
	COMMENTS_SECRET_KEY="$${COMMENTS_SECRET_KEY:-$$(cat instance/secret_key)}" $(VENV)/bin/comments dev

## test: lint, then the whole suite against a private Redis, SQLite, PostgreSQL, a real worker and Chromium
test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

## fuzz: schemathesis against /openapi.json, public and admin operations (no 5xx, nothing off the schema)
fuzz: install
	$(PY) scripts/fuzz_api.py

## bench: every benchmark in docs/benchmarks.md (about 15 minutes); all run, and any FAIL fails the target
BENCHES := sanitize intake intake_instructions admin_queue isso_compare worker_speed spam_quality spam_engine spam_learning
bench: install
	@status=0; for name in $(BENCHES); do echo "== bench/$$name.py"; $(PY) bench/$$name.py || status=1; done; exit $$status

## chaos: load, Redis down, a worker killed mid-job, the database down, jobs delivered twice (docs/benchmarks.md)
chaos: install
	$(PY) -m chaos

## image-check: build the Docker image, run migrations, web and worker from it, decide one comment (needs Docker)
image-check:
	scripts/image-check

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis
