# The two commands of the README. Both create .venv on first use and are safe to re-run.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP = wsgi:app

.PHONY: run setup test venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

venv: $(BIN)/python

# Install, migrate, load the content, create the demo accounts (idempotent).
setup: venv
	$(BIN)/pip install --quiet -e .
	$(BIN)/flask db upgrade
	$(BIN)/flask scenarios load
	$(BIN)/flask acts train
	$(BIN)/flask seed demo

run: setup
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: venv
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
