# One task runner for humans and CI. `make demo` and `make test` are the README's two commands.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint stack-up stack-down stack-status migrate bench clean

# Create the virtual environment and install everything (torch CPU build first, then the locked set).
$(STAMP): pyproject.toml requirements.lock scripts/install.sh
	bash scripts/install.sh $(VENV)
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/icop demo

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(VENV)/bin/ruff check icop gateway workflows graphs deployments cluster emulators tests bench

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
