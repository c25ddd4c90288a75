# One task runner for humans and CI. `make demo` and `make test` are the README's two commands.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast gates lint stack-up stack-down stack-status migrate bench clean lock \
	dashboard dashboard-check screenshots

# Create the virtual environment and install everything (torch CPU build first, then the locked set).
$(STAMP): pyproject.toml requirements.lock scripts/install.sh
	bash scripts/install.sh $(VENV)
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/icop demo

# scripts/test.sh: ruff's checks first (a finding stops everything at once), then the tests in two lanes
# (two pytest sessions, each with its own private stack) with mypy beside them.
test: install
	VENV=$(VENV) bash scripts/test.sh

test-fast: install
	VENV=$(VENV) bash scripts/test.sh -m "not slow"

# ruff's and mypy's settings (what they check, how strictly) live in pyproject.toml.
gates: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

lint: gates

# The dashboard (dashboard/, Next.js): npm ci + next build when needed (cached), its type check and linter
# (also run by `make test` through tests/dashboard), and the committed screenshots (docs/screenshots/).
dashboard: install
	$(PY) -c "from pathlib import Path; from cluster.dashboard import ensure_built; print(ensure_built(Path('.icop/apps/dashboard-build.log')))"
dashboard-check: dashboard
	cd dashboard && NEXT_TELEMETRY_DISABLED=1 npm run --silent typecheck && NEXT_TELEMETRY_DISABLED=1 npm run --silent lint
screenshots: install
	ICOP_SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest tests/dashboard -q -p no:cacheprovider

stack-up: install
	$(VENV)/bin/icop stack up
stack-down: install
	$(VENV)/bin/icop stack down
stack-status: install
	$(VENV)/bin/icop stack status
migrate: install
	$(VENV)/bin/icop db migrate

clean:
	-$(VENV)/bin/icop stack down
	rm -rf .icop

# Re-resolve the dependency set from pyproject.toml and write requirements.lock (needs network to PyPI).
lock:
	rm -rf .venv-lock && python3 -m venv .venv-lock
	.venv-lock/bin/pip install -q torch==2.13.0 && .venv-lock/bin/pip install -q -e '.[dev]'
	.venv-lock/bin/pip freeze --exclude-editable > requirements.lock
	echo "setuptools==$$(.venv-lock/bin/python -c 'import setuptools;print(setuptools.__version__)')" >> requirements.lock
	rm -rf .venv-lock
