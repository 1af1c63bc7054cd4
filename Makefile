# Two commands set everything up on a fresh machine: `make run` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# These exact builds lie on the build machine's disk; any other torch downloads gigabytes.
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e '.[train,test,scan]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sigverify-gui

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check model sigverify_gui tests

bench: $(STAMP)
	$(BIN)/sigverify bench

clean:
	rm -rf $(VENV) build dist .pytest_cache
