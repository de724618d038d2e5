# The two quick-start commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
N      ?= 10000
# The suite runs on every core (pytest-xdist); each test builds its own repos.
JOBS   ?= auto

.PHONY: demo test test-deep test-clocks lint typecheck bench schemas clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(JOBS)

# Five times the property examples and crash kills of `make test`.
test-deep: $(STAMP)
	OPP_TEST_DEPTH=5 $(BIN)/python -m pytest -q -n $(JOBS)

# The whole suite under clocks moved 400 and 3,000 days ahead (Debian's faketime):
# a test that hard-codes "the future" fails here on the day it is written.
test-clocks: $(STAMP)
	faketime -f +400d $(BIN)/python -m pytest -q -n $(JOBS) -p no:cacheprovider
	faketime -f +3000d $(BIN)/python -m pytest -q -n $(JOBS) -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py --n $(N)

schemas: $(STAMP)
	$(BIN)/python -m oppcli.store.schemas --write

clean:
	rm -rf $(VENV) .demo .pytest_cache .hypothesis .mypy_cache .ruff_cache *.egg-info
