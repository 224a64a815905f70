# Two commands for a newcomer: `make lab` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
UI_STAMP := $(VENV)/.installed-ui
HUB_STAMP := $(VENV)/.installed-hub
PORT   ?= 8888
START  ?= notebooks/00_learning.ipynb
ARGS   ?=
# JupyterLab refuses to run as root (containers, some hubs) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
export PYTHONHASHSEED := 0

.PHONY: install lab test test-unit test-cudasim test-notebooks test-ui test-hub site bench constraints doctor clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed; found " + sys.version.split()[0] + ". Run: make PYTHON=/path/to/python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable ".[course,test]"
	touch $(STAMP)

install: $(STAMP)

# The browser test's extra (Playwright for Python). It drives Debian's chromium; it never downloads a browser.
$(UI_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --editable ".[course,test,ui]"
	touch $(UI_STAMP)

# The file browser's root is the repository (notebooks/, exercises/, solutions/ all reachable); the
# start notebook opens, and the URL printed with its token leads to it, also with ARGS=--no-browser.
lab: $(STAMP)
	$(BIN)/nutshell warm
	$(BIN)/jupyter lab --port=$(PORT) $(ROOT_FLAG) --ServerApp.root_dir="$(CURDIR)" \
		--LabApp.default_url=/lab/tree/$(START) $(ARGS)

test: test-unit test-cudasim test-notebooks

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests

# The CUDA kernels, run by Numba's CUDA simulator: how CI (which has no GPU) checks them.
test-cudasim: $(STAMP)
	NUMBA_ENABLE_CUDASIM=1 $(BIN)/python -m pytest -m cuda tests

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest notebooks solutions exercises

# Every notebook in notebooks/ and exercises/, run from JupyterLab's Run menu in headless Chromium.
# Screenshots go to ui-screenshots/. UI_ARGS passes pytest options, e.g. UI_ARGS="-k 03_".
UI_ARGS ?=
test-ui: $(UI_STAMP)
	@test -x /usr/bin/chromium || { echo "make test-ui needs Debian's chromium: apt-get install chromium"; exit 1; }
	$(BIN)/nutshell warm
	$(BIN)/python -m pytest ui_tests $(UI_ARGS)

# JupyterHub and its proxy (configurable-http-proxy, from npm, into .hub/).
$(HUB_STAMP): $(STAMP)
	@command -v npm >/dev/null || { echo "make test-hub needs npm (Node.js): apt-get install npm"; exit 1; }
	$(BIN)/python -m pip install --quiet --editable ".[course,test,hub]"
	npm install --prefix .hub --no-audit --no-fund --silent configurable-http-proxy@4.6.3
	touch $(HUB_STAMP)

# A workshop on a real JupyterHub: LEARNERS simulated learners (default 8) at once on a shared,
# read-only install of the kit. The last line sums up cells, errors, compiles and the slowest times.
LEARNERS ?= 8
test-hub: $(HUB_STAMP)
	$(BIN)/python -m hub_tests.run --learners $(LEARNERS)

# The course as static HTML in site/ (stored outputs; links between notebooks work), for reading without Jupyter.
# SITE_ARGS=--execute runs every notebook first (for notebooks committed without outputs).
SITE_DIRS ?= notebooks exercises
SITE_ARGS ?=
site: $(STAMP)
	$(BIN)/python tools/build_site.py --out site $(SITE_ARGS) $(SITE_DIRS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

# The exact versions `make test` passed with, for workshops that want a known-good set:
# pip install -c tools/constraints.txt -e ".[course,test]". Regenerate after a green CI run.
constraints: $(STAMP)
	{ echo "# Versions make test passed with ($$($(BIN)/python -c 'import platform; print("Python", platform.python_version(), platform.system(), platform.machine())')). make constraints writes this file."; \
	  $(BIN)/python -m pip freeze --exclude-editable --all | grep -v '^\(pip\|setuptools\|wheel\)=='; } > tools/constraints.txt

doctor: $(STAMP)
	$(BIN)/nutshell doctor

clean:
	rm -rf $(VENV) .hub build *.egg-info site ui-screenshots
	find . -name __pycache__ -prune -exec rm -rf {} +
