# OwnerDesk: `make run` to try it, `make test` to check it. Both start with `make setup`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test train lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV)
	touch $(STAMP)

run: setup
	$(BIN)/ownerdesk db upgrade
	$(BIN)/ownerdesk demo load
	$(BIN)/ownerdesk serve

test: setup
	bash scripts/test.sh

train: setup
	$(BIN)/ownerdesk intents train

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
