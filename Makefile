# The one entry point. Every target sets up .venv on first use.
#   make demo   - a gated rollout against the local Baseten emulator (no account, no Pulumi CLI)
#   make test   - lint, type-check and the test suite (the reliability matrices run in scorecard)
#   make scorecard - the reliability matrices, one line per family; fails on any shortfall
#   make bench  - every lookup path against the alternatives, as ratios (build/bench.json)
#   make tf-plan     - terraform plan of examples/terraform against the emulator (terraform on PATH)
#   make terraformrc - build/terraformrc: a CLI config serving baseten/baseten from .venv
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint scorecard bench bench-quick tf-plan terraformrc clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $(BENCH_STAMP)

demo: $(STAMP)
	$(PY) -m provider.demo

lint: $(STAMP)
	$(PY) -m ruff check provider tests examples benchmarks __main__.py
	$(PY) -m mypy

test: lint
	$(PY) -m pytest --ignore=tests/reliability

scorecard: $(STAMP)
	$(PY) -m tests.reliability.scorecard

bench: $(BENCH_STAMP)
	$(PY) benchmarks/bench.py

bench-quick: $(BENCH_STAMP)
	$(PY) benchmarks/bench.py --quick

# Terraform, offline: no registry, no `terraform init` (dev_overrides), bounded in time.
tf-plan: $(STAMP)
	$(PY) -m provider.terraform.example_plan

# Use it with: export TF_CLI_CONFIG_FILE=$(CURDIR)/build/terraformrc CHECKPOINT_DISABLE=1
terraformrc: $(STAMP)
	$(PY) -m provider.terraform.cliconfig --output build/terraformrc

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
