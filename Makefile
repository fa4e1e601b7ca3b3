# Two entry points for a fresh machine: `make train` and `make test`. Both create the
# virtual environment on first use and install rnnlab with the pinned versions.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

# Datasets: RNNLAB_DATA if set, else a local mirror at ../shared/data if there is one,
# else rnnlab downloads into ~/.cache/rnnlab.
# (absolute, since tests and runs read it from other folders)
RNNLAB_DATA ?= $(abspath $(wildcard ../shared/data))
ifneq ($(RNNLAB_DATA),)
export RNNLAB_DATA
endif

.PHONY: train test test-fast lint venv clean d2l-env

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,sweep]'
	touch $@

train: venv
	$(PY) -m rnnlab.train $(ARGS)

test: venv
	$(PY) -m pytest -q $(ARGS)

# the suite less the tests marked slow (real datasets, a new process, an exhaustive grid:
# tests/conftest.py), one pytest-xdist worker per core this shell may use (`taskset -c 1
# make test-fast`: one), each torch single-threaded so that workers do not share a core
test-fast: venv
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -m "not slow" -n auto $(ARGS)

lint: venv
	$(PY) -m ruff check rnnlab tests scripts
	$(PY) -m ruff format --check rnnlab tests scripts

# scripts/d2l_reference.py's own environment (.venv-d2l: torch + d2l 0.17.6, not rnnlab)
d2l-env:
	bash scripts/d2l_env.sh

clean:
	rm -rf $(VENV) .pytest_cache
