# causalmix — two commands on a fresh machine: `make reproduce` and `make test` (each sets itself up).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The published standard study once it is in published/standard/, the quick one until then.
CONFIG ?= $(if $(wildcard published/standard/runs.csv.gz),standard,quick)
JOBS ?= 2
# A published configuration (published/<name>/): FRESH=1 recomputes its study instead of re-verifying
# VERIFY_RUNS of its runs and building from the published records (0: no check, e.g. on GitHub Pages).
FRESH ?=
VERIFY_RUNS ?= 32
# torch is installed first and kept as a constraint: otherwise pip pulls several GB of CUDA wheels.
# Elsewhere: make setup TORCH_INDEX=--index-url=https://download.pytorch.org/whl/cpu  (GPU: see README)
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
# Offline by default: the shared datasets beside the checkout, the shipped checkpoint, no hub calls.
export CAUSALMIX_DATA_DIR ?= $(abspath $(wildcard ../shared/datasets))
export HF_HUB_OFFLINE ?= 1
export TABPFN_DISABLE_TELEMETRY ?= 1
export MPLBACKEND ?= Agg

STAMP := $(VENV)/.causalmix-installed
# CTGAN needs pandas < 3 (its rdt dependency): its tests and its study run in a second environment with its own lock.
CTGAN_VENV ?= .venv-ctgan
CTGAN_STAMP := $(CTGAN_VENV)/.causalmix-installed

.PHONY: setup setup-ctgan test test-slow test-all test-ctgan reproduce notebooks book pretrain gpu-check lock clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_INDEX) "$(TORCH)"
	echo "$(TORCH)" > $(VENV)/torch-constraint.txt
	$(BIN)/python -m pip install -q -r requirements.lock -c $(VENV)/torch-constraint.txt
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# The default suite leaves out the tests marked slow (the smoke book executed and rendered, the wheel
# install); `make test-slow` runs those, `make test-all` everything. CI runs both.
test: setup
	$(BIN)/python -m pytest -m "not slow"
	$(MAKE) test-ctgan

test-slow: setup
	$(BIN)/python -m pytest -m slow

test-all: setup
	$(BIN)/python -m pytest
	$(MAKE) test-ctgan

$(CTGAN_STAMP): requirements-ctgan.lock pyproject.toml
	test -x $(CTGAN_VENV)/bin/python || $(PYTHON) -m venv $(CTGAN_VENV)
	$(CTGAN_VENV)/bin/python -m pip install -q --upgrade pip
	$(CTGAN_VENV)/bin/python -m pip install -q $(TORCH_INDEX) "$(TORCH)"
	echo "$(TORCH)" > $(CTGAN_VENV)/torch-constraint.txt
	$(CTGAN_VENV)/bin/python -m pip install -q -r requirements-ctgan.lock -c $(CTGAN_VENV)/torch-constraint.txt
	$(CTGAN_VENV)/bin/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

setup-ctgan: $(CTGAN_STAMP)

# The CTGAN tests, in the ctgan environment (make test runs them after the main suite).
test-ctgan: $(CTGAN_STAMP)
	$(CTGAN_VENV)/bin/python -m pytest -p no:cacheprovider tests/test_ctgan.py

# The study's records first (a published one is checked; any other, or FRESH=1, is run: grid, extension,
# ablations, resumable from results/<config>/), then papermill executes notebooks/0*.ipynb, which only read,
# into book/results/. Each published study the book reads is checked; published CTGAN runs are recomputed in
# the ctgan environment, built first. Exit status 3: the notebooks ran, but the check
# of the published records failed; within `make reproduce` (CHECK_LATER=1) the book is built first.
notebooks: setup $(if $(and $(wildcard published/confirmatory-ctgan/runs.csv.gz),$(filter-out 0,$(VERIFY_RUNS))),$(CTGAN_STAMP))
	$(BIN)/python -m causalmix.reproduce --config $(CONFIG) --jobs $(JOBS) $(if $(filter-out 0 no false,$(FRESH)),--fresh) --verify-runs $(VERIFY_RUNS) \
		|| [ $$? -eq 3 -a -n "$(CHECK_LATER)" ]

# Renders the executed notebooks and book/*.md into _build/html, offline; any warning fails (-W).
book: setup
	$(BIN)/jupyter-book build . -W --keep-going

# A failed check of the published records still builds the book (it shows the failure), then exits 1.
reproduce:
	$(MAKE) notebooks CHECK_LATER=1
	$(MAKE) book
	$(BIN)/python -m causalmix.reproduce --config $(CONFIG) --check-only

pretrain: setup
	$(BIN)/python -m causalmix.pretraining --config causalmix/configs/pretrain-long.yaml --out-dir runs/pretrain-long --overwrite --export causalmix/weights/causalmix-wide.ckpt

# On a CUDA machine (after `make setup TORCH_INDEX=...`): the smoke sweep on the GPU, results in
# benchmarks/results/gpu_check.md (seconds per step and run, peak memory, same-seed determinism).
gpu-check: setup
	$(BIN)/python benchmarks/gpu_check.py --out benchmarks/results/gpu_check.md

lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -i -e "^torch==" -e "^causalmix" > requirements.lock

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
