# Two commands on a fresh machine: `make serve` (set up + run the service on the shipped model)
# and `make test` (set up + run the tests). Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup serve test lint bench model clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	# The CPU wheel; the project's own torch range accepts it, so no CUDA packages are pulled.
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[dev]"
	touch $(STAMP)

serve: setup
	$(VENV)/bin/contradict serve

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: setup
	$(PY) bench/throughput.py

# Reproduce the shipped model end to end (download VitaminC, train, calibrate, evaluate, export).
model: setup
	bash training/reproduce.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
