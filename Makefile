# The project's commands. Every target creates .venv/ (the project's environment) when missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION = 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION = 20
export DO_NOT_TRACK = 1

.PHONY: install demo test lint bench synth serve clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,api,serve,report,sources,aws,dbt,cdk,tracking]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project with its dev tools

demo: install  ## the main job on the embedded default: synthetic data with known truth
	$(VENV)/bin/mmm demo

test: install  ## lint, then the whole suite
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install  ## speed and accuracy figures (printed, never asserted); BENCH_ARGS=--quick for a short run
	@for script in bench/bench_*.py; do echo "######## $$script"; $(PY) $$script $(BENCH_ARGS) || exit 1; done

serve: install  ## the API on http://127.0.0.1:8000 (docs at /docs) with the local store; one worker process per core (WORKERS=n)
	MMM_HOME=$${MMM_HOME:-.mmm} $(PY) -m lambdas.api.serve --host 127.0.0.1 --port $${PORT:-8000} $${WORKERS:+--workers $$WORKERS}

synth: install  ## every CDK stack into cdk.out/ (no AWS account, no Docker needed)
	$(PY) app.py && ls cdk.out/*.template.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .mmm build *.egg-info cdk.out
