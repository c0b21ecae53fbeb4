# The front door: the README, CI and humans all call these targets.
PYTHON ?= python3
VENV := .venv
TOOLS := var/tools
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install client test-python test-client test-stock-paths lint stack bench audit lock upgrade-check clean

run: install client ## set up everything, then start investor-chat standalone on http://127.0.0.1:8080
	$(BIN)/investor-chat

test: install client ## set up everything, then run every test (lint and types, client unit, Python, browser, stock paths)
	$(MAKE) lint
	$(MAKE) test-client
	$(MAKE) test-python
	$(MAKE) test-stock-paths

install: $(STAMP)

# Everything make run and make test install comes from requirements-dev.lock (hash-checked), the project
# itself without re-resolving; a new top-level package needs the editable install redone, so the
# packages are prerequisites too
$(STAMP): requirements-dev.lock setup.cfg pyproject.toml $(wildcard */__init__.py)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

client: client/dist/index.html

client/dist/index.html: $(shell find client/src client/index.html client/package.json client/package-lock.json client/vite.config.ts -type f 2>/dev/null)
	cd client && npm ci --no-audit --no-fund && npm run build

test-client: client
	cd client && npm test

# in parallel (pytest-xdist; each worker has its own ports and Redis database), then, alone on the box,
# the tests that measure time or memory under load
PYTEST_WORKERS ?= 4
test-python: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not serial"
	$(BIN)/pytest -m serial

# the live tests once more with every fast path off: the libraries' own code serves (core/fastpaths.py)
test-stock-paths: install
	CHAT_FAST_PATHS=off $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not fastpath and not serial and not browser" \
		tests/test_chat.py tests/test_sending.py tests/test_history.py tests/test_channels.py tests/test_broadcast.py \
		tests/test_engine_socket.py tests/test_bot.py tests/test_quotes.py tests/test_redis_bus.py tests/test_bad_input.py \
		tests/test_fuzz_socketio.py tests/test_security_abuse.py tests/test_stack.py tests/test_faults.py \
		tests/test_message_changes.py tests/test_message_changes_abuse.py tests/test_message_changes_stack.py \
		tests/test_access.py tests/test_access_stack.py tests/test_notifications.py tests/test_notifications_stack.py \
		tests/test_bot_trading.py tests/test_investing_api.py

stack: install client ## the distributed stack locally: nginx on http://127.0.0.1:8000, 2 nodes, bot, archiver, SecantusDB, Redis db 1
	$(BIN)/python -m scripts.stack --port 8000

bench: install ## side-by-side benchmark against the Node Socket.IO reference (15-30 min by how far the ladders climb; BENCH_ARGS=--quick)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

audit: ## known-vulnerability audit of the locked deps and the client's production deps (needs the advisory services online)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet 'pip-tools>=7.5,<8' pip-audit
	$(TOOLS)/bin/pip-audit --strict --disable-pip --no-deps -r requirements-dev.lock
	cd client && npm audit --omit=dev

# pip-tools: it reads setup.cfg's ranges as they are, writes requirements files pip itself installs with
# --require-hashes (the Dockerfile needs nothing else), and keeps existing pins unless told to upgrade
PIP_COMPILE = $(TOOLS)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links
$(TOOLS)/bin/pip-compile:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet 'pip-tools>=7.5,<8'

lock: $(TOOLS)/bin/pip-compile ## re-pin from setup.cfg's ranges, with hashes: requirements.lock (the image's runtime), requirements-dev.lock (everything make run and make test install, the runtime pins included)
	$(PIP_COMPILE) --all-build-deps --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --all-build-deps --extra dev --constraint requirements.lock --output-file requirements-dev.lock pyproject.toml

upgrade-check: ## the newest versions setup.cfg allows, in a throwaway venv: what changed, then lint and every test there
	$(PYTHON) -m scripts.upgrade_check

lint: install client
	$(BIN)/ruff check core quotes investing socketio_edge server bot archiver probes chatkit tests examples scripts bench
	$(BIN)/ruff format --check core quotes investing socketio_edge server bot archiver probes chatkit tests examples scripts bench
	$(BIN)/mypy
	cd client && npm run lint

clean:
	rm -rf $(VENV) client/node_modules client/dist var
