# The README's two commands: `make demo` and `make test`. Both create .venv on first use.
#
# torch is installed first, on its own, from PyTorch's CPU index: PyPI's Linux torch wheels are
# CUDA builds (several GB), and naming the CPU index here means the result does not depend on a
# machine's pip configuration. `--no-deps` keeps that index to one request (torch's own
# dependencies come from PyPI with safeforge's), and the timeout and retry caps bound how long an
# unreachable index can cost (about a minute at worst) before pip falls back to the other places
# it is configured to look (a local wheel directory, a mirror). Override TORCH_INDEX for a mirror.

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
PIP_NET ?= --timeout 20 --retries 2
BIN := $(VENV)/bin
STAMP := $(VENV)/.safeforge-installed

.PHONY: demo test lint types install clean

demo: $(STAMP)
	$(BIN)/safeforge demo

# What CI runs (.ci/run): lint, types, then the whole test suite. One torch thread per test
# process, as the suite is written and timed (2 shared cores; the tiny models gain nothing from a
# second thread, and some training tests' exact outcomes differ between 1 and 2 threads).
test: lint types
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

install: $(STAMP)

$(STAMP): pyproject.toml
	@echo "setting up $(VENV): CPU torch, then safeforge[all,dev] (first use only, 1-3 minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q $(PIP_NET) --no-deps --index-url $(TORCH_INDEX) "$(TORCH)"
	$(BIN)/pip install -q $(PIP_NET) -e '.[all,dev]'
	@touch $@

clean:
	rm -rf $(VENV)
