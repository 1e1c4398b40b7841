# Two commands on a fresh machine (see README): `make demo` and `make test`.
# Everything is installed into ./.venv from pyproject.toml; nothing is installed by hand.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint ci bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

## the demo wall: simulated conversation, no account, no network
demo: $(VENV)/.installed
	$(BIN)/agora demo $(ARGS)

## the test suite (Qt offscreen, no display needed)
test: $(VENV)/.installed-dev
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(ARGS)

## ruff, mypy --strict and vulture (dead code; its settings are in pyproject.toml)
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check agora tests
	$(BIN)/ruff format --check agora tests
	$(BIN)/mypy
	$(BIN)/vulture

ci: test lint

## performance figures (run by hand, reported in closing notes)
bench: $(VENV)/.installed
	$(BIN)/agora bench $(or $(ARGS),ingest)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
