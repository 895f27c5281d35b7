# `make run` and `make test` work on a fresh machine with only Python, pip and make.
# The operator's commands are targets too (`make admin ID=U…`, `make manifest URL=https://…`),
# so the README's first steps need nothing on PATH.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Quiet installs: no pip version nag, no progress bars, no setuptools banners (-q -q keeps errors).
PIP    := PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_WARN_SCRIPT_LOCATION=1 $(BIN)/python -m pip install -q -q
BEFORE ?=

.PHONY: run test lint bench bench-instructions bench-startup check-readme admin manifest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/rocket serve

# make admin ID=U0YOURID: create that Slack user if missing and make them admin.
admin: $(VENV)/.installed
	@test -n "$(ID)" || { echo "make admin: give your Slack member id, e.g. make admin ID=U0YOURID" >&2; exit 2; }
	$(BIN)/rocket admin '$(ID)'

# make manifest URL=https://HOST (or SOCKET=1): write manifest.json for api.slack.com/apps.
manifest: $(VENV)/.installed
	@test -n "$(URL)$(SOCKET)" || { echo "make manifest: give the https address Slack will reach, e.g. make manifest URL=https://rocket.example.org (or SOCKET=1 for Socket Mode)" >&2; exit 2; }
	$(BIN)/rocket slack-manifest $(if $(URL),--url '$(URL)') $(if $(SOCKET),--socket) > manifest.json.tmp
	mv manifest.json.tmp manifest.json
	@echo "wrote manifest.json: paste it at https://api.slack.com/apps → Create New App → From an app manifest"

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

# The README's shell blocks, run in order on a clean copy of this checkout (tests/e2e/test_readme.py).
check-readme: $(VENV)/.installed-dev
	ROCKET_CHECK_README=1 $(BIN)/pytest -q tests/e2e/test_readme.py

# `make bench BEFORE=../old-checkout` also measures that checkout's start-up (it needs its .venv).
bench: $(VENV)/.installed-dev
	ROCKET_BENCH_BEFORE='$(BEFORE)' $(BIN)/python -m bench

# Instructions per request counted by callgrind (needs valgrind): a noise-free cost figure.
bench-instructions: $(VENV)/.installed-dev
	$(BIN)/python -m bench.instructions $(if $(BEFORE),--before '$(BEFORE)')
	$(BIN)/python -m bench.instructions --http $(if $(BEFORE),--before '$(BEFORE)')

bench-startup: $(VENV)/.installed-dev
	$(BIN)/python -m bench.startup --instructions $(if $(BEFORE),--before '$(BEFORE)')

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
