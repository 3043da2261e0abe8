# The one entry point. Every target sets up .venv on first use (Python >= 3.11).
#   make demo   - a gated rollout against the local Baseten emulator (no account, no Pulumi CLI)
#   make test   - lint, type-check and the test suite (the reliability matrices run in scorecard)
#   make install-check - each install path of the README, run in fresh folders outside the repo
#   make dist   - the wheel and the sdist, in dist/
#   make release - dist/: the wheel, the sdist, the plugin tarballs and SHA256SUMS
#                  (PLUGIN_DOWNLOAD_URL=... puts where they will be published into the schema)
#   make docs   - the reference in docs/ (Pulumi, Terraform, command line) and the typed Python
#                 functions (provider/generated_functions.py), from the declarations
#   make scorecard - the reliability matrices, one line per family; fails on any shortfall
#   make fuzz   - the fuzz suite of the scorecard, longer (FUZZ_EXAMPLES, default 500; shrinks;
#                 FUZZ_ARGS='-k plugin' picks front ends)
#   make bench  - every lookup path against the alternatives, as ratios (build/bench.json)
#   make tf-plan     - terraform plan of examples/terraform against the emulator (terraform on PATH)
#   make terraformrc - build/terraformrc: a CLI config serving the provider from .venv (no init)
#   make clean  - remove .venv, build/, dist/ and the caches: the next target starts afresh
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
INSTALL_LOG := build/install.log
PIP := $(PY) -m pip --disable-pip-version-check

.PHONY: demo test lint install-check dist release docs scorecard fuzz bench bench-quick tf-plan terraformrc clean

# pip's output goes to $(INSTALL_LOG), shown only if something fails. A failed or interrupted
# install removes .venv, so the next run starts again instead of using half an environment.
# (A virtualenv cannot be built elsewhere and moved: its scripts name their own path.)
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: Python >= 3.11 is needed; '$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo missing). Try: make $(MAKECMDGOALS) PYTHON=python3.11"; \
	  exit 1; }
	@mkdir -p build
	@echo "installing into $(VENV) (first run takes a minute; log: $(INSTALL_LOG))..."
	@trap 'rm -rf $(VENV); exit 1' INT TERM; \
	{ rm -rf $(VENV) \
	  && $(PYTHON) -m venv $(VENV) \
	  && $(PIP) install --upgrade pip \
	  && $(PIP) install -r requirements-dev.txt \
	  && $(PIP) install --no-deps -e . ; } > $(INSTALL_LOG) 2>&1 \
	|| { cat $(INSTALL_LOG); rm -rf $(VENV); \
	     echo "error: installing into $(VENV) failed (log above, and in $(INSTALL_LOG)); $(VENV) was removed"; \
	     exit 1; }
	@touch $(STAMP)

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	@echo "installing the benchmark's extras (log: $(INSTALL_LOG))..."
	@$(PIP) install -r requirements-bench.txt > $(INSTALL_LOG) 2>&1 \
	  || { cat $(INSTALL_LOG); echo "error: installing requirements-bench.txt failed"; exit 1; }
	@touch $(BENCH_STAMP)

demo: $(STAMP)
	$(PY) -m provider.demo

lint: $(STAMP)
	$(PY) -m ruff check provider tests examples benchmarks __main__.py
	$(PY) -m mypy

# The suite runs on TEST_WORKERS processes (pytest-xdist); TEST_WORKERS=0 runs it in one.
TEST_WORKERS ?= 2
test: lint
	$(PY) -m pytest -n $(TEST_WORKERS) --ignore=tests/reliability --ignore=tests/install

# The README's install commands in fresh folders and virtualenvs (see tests/install).
install-check: $(STAMP)
	$(PY) -m pytest tests/install

dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .

# See provider/release.py. Without PLUGIN_DOWNLOAD_URL the schema has no pluginDownloadURL.
PLUGIN_DOWNLOAD_URL ?=
release: $(STAMP)
	$(PY) -m provider.release --outdir dist --plugin-download-url '$(PLUGIN_DOWNLOAD_URL)'

# See provider/reference. Writes only what changed; DOCS=dir writes elsewhere (the tests do).
DOCS ?= docs
docs: $(STAMP)
	$(PY) -m provider.reference --output '$(DOCS)'

scorecard: $(STAMP)
	$(PY) -m tests.reliability.scorecard

# Generated API answers through every front end (tests/reliability/fuzz), many more of them than
# the scorecard's run; a failing example is shrunk to a minimal one.
# FUZZ_ARGS passes pytest options through (FUZZ_ARGS='-k plugin': one front end).
FUZZ_EXAMPLES ?= 500
FUZZ_ARGS ?=
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SHRINK=1 $(PY) -m pytest tests/reliability/fuzz -p no:cacheprovider $(FUZZ_ARGS)

bench: $(BENCH_STAMP)
	$(PY) benchmarks/bench.py

bench-quick: $(BENCH_STAMP)
	$(PY) benchmarks/bench.py --quick

# Terraform, offline: no registry, no `terraform init` (dev_overrides), bounded in time.
tf-plan: $(STAMP)
	$(PY) -m tests.terraform_plan

# Use it with: export TF_CLI_CONFIG_FILE=$(CURDIR)/build/terraformrc CHECKPOINT_DISABLE=1
terraformrc: $(STAMP)
	$(PY) -m provider.terraform.cliconfig --output build/terraformrc

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
