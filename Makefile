# The front door: the README, CI and humans all call these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install client test-python test-client lint stack bench audit lock clean

run: install client ## set up everything, then start investor-chat standalone on http://127.0.0.1:8080
	$(BIN)/investor-chat

test: install client ## set up everything, then run every test (lint and types, client unit, Python, browser)
	$(MAKE) lint
	$(MAKE) test-client
	$(MAKE) test-python

install: $(STAMP)

# a new top-level package needs the editable install redone, so the packages are prerequisites too
$(STAMP): setup.cfg pyproject.toml $(wildcard */__init__.py)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

client: client/dist/index.html

client/dist/index.html: $(shell find client/src client/index.html client/package.json client/package-lock.json client/vite.config.ts -type f 2>/dev/null)
	cd client && npm ci --no-audit --no-fund && npm run build

test-client: client
	cd client && npm test

test-python: install
	$(BIN)/pytest

stack: install client ## the distributed stack locally: nginx on http://127.0.0.1:8000, 2 nodes, bot, archiver, SecantusDB, Redis db 1
	$(BIN)/python -m scripts.stack --port 8000

bench: install ## side-by-side benchmark against the Node Socket.IO reference (15-30 min by how far the ladders climb; BENCH_ARGS=--quick)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

audit: install ## known-vulnerability audit of the locked runtime deps and the client's production deps (needs the advisory services online)
	$(BIN)/pip install --quiet pip-audit
	$(BIN)/pip-audit --strict --disable-pip --no-deps -r requirements.lock
	cd client && npm audit --omit=dev

lock: install ## re-pin the image's runtime dependencies with hashes
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url --output-file requirements.lock setup.cfg
	sed -i '/^--find-links/d' requirements.lock

lint: install
	$(BIN)/ruff check core server bot archiver workers tests examples scripts bench
	$(BIN)/ruff format --check core server bot archiver workers tests examples scripts bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) client/node_modules client/dist var
