# The two commands of the README: `make run` (set up and start the app) and `make test`
# (set up and run every test). Everything else here is what they are built from.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench demo install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m db.setup
	$(BIN)/streamlit run dashboard/app.py --server.port 8501

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	.ci/with-services $(BIN)/python -m pytest -n auto --dist loadscope

bench: $(STAMP)
	$(BIN)/python -m bench

demo: $(STAMP)
	$(BIN)/python -m db.demo --customers 2000 --seed 7

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
