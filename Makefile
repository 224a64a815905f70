# Two commands for a newcomer: `make lab` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
START  ?= notebooks/00_learning.ipynb
ARGS   ?=
export PYTHONHASHSEED := 0

.PHONY: install lab test test-unit test-cudasim test-notebooks bench doctor clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed; found " + sys.version.split()[0] + ". Run: make PYTHON=/path/to/python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable ".[test]"
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/nutshell warm
	$(BIN)/jupyter lab --port=$(PORT) $(ARGS) $(START)

test: test-unit test-cudasim test-notebooks

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests

# The CUDA kernels, run by Numba's CUDA simulator: how CI (which has no GPU) checks them.
test-cudasim: $(STAMP)
	NUMBA_ENABLE_CUDASIM=1 $(BIN)/python -m pytest -m cuda tests

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest notebooks solutions exercises

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

doctor: $(STAMP)
	$(BIN)/nutshell doctor

clean:
	rm -rf $(VENV) build *.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +
