# labelapp: `make demo` and `make test` work on a fresh machine (they create .venv and install).
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
PYTEST_ARGS ?= -n 3
# The whole tree CI tests, pinned (regenerate with `make constraints` after changing dependencies).
CONSTRAINTS := .ci/constraints.txt

.PHONY: demo test test-fast lint fmt install constraints bench clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	# The CPU build of torch first (snorkel needs torch; any other torch pulls GBs of CUDA).
	$(PY) -m pip install -q -c $(CONSTRAINTS) torch
	$(PY) -m pip install -q -c $(CONSTRAINTS) -e '.[all,test,tutorial]'
	$(PY) -m pip check
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/labelapp demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: $(STAMP) lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The edit-test loop: no browser, no slow tests, SQLite only; one process per core (the fast
# tests wait on nothing, so more processes than cores only add start-up: 2 cores, 51 s).
test-fast: $(STAMP)
	LABELAPP_TEST_BACKENDS=sqlite $(VENV)/bin/pytest -n auto -q -m 'not browser and not slow'

constraints: $(STAMP)
	$(PY) -m pip freeze --exclude-editable > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
