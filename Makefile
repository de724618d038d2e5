# The two quick-start commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SUM    := $(shell cksum pyproject.toml | cut -d' ' -f1)
RUN_STAMP  := $(VENV)/.installed-run-$(SUM)
TEST_STAMP := $(VENV)/.installed-test-$(SUM)
N      ?= 10000
# The suite runs on two workers per core (pytest-xdist): many tests wait on git, on a
# sleep before a kill or on a lock, and the second worker uses that time (measured on two
# cores: 175 s with 4 workers, 196 s with 3). Work stealing keeps the long tests from
# ending the run on one worker.
CORES  := $(shell getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
JOBS   ?= $(shell echo $$(( 2 * $(CORES) )))
XDIST  := -n $(JOBS) --dist worksteal

.PHONY: demo test test-deep test-clocks lint typecheck bench schemas docs clean

# Two stamps: `make demo` installs opp and its runtime dependencies only; `make test`
# adds the test extras (pytest, Playwright, ruff, mypy…), a superset, so it stamps both.
# The editable install is a plain path in a .pth file (editable_mode=compat), as an
# installed package is found: setuptools' default puts an import hook in front of every
# Python the venv starts (pathlib, importlib.util and the hook: 8 to 11 ms of each
# `opp --help`, measured on 2026-12-03), and the tests and benchmarks start thousands.
EDITABLE := -e . --config-settings editable_mode=compat

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(EDITABLE)
	rm -f $(VENV)/.installed-run-* && touch $@

$(TEST_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	rm -f $(VENV)/.installed-* && touch $@ $(RUN_STAMP)

demo: $(RUN_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

# The tests start opp as a process some thousands of times: its modules are compiled
# once beforehand, even where PYTHONDONTWRITEBYTECODE is set (a fresh clone then took
# 196 s against 175 s, each process compiling opp anew). For the same reason pytest runs
# without that variable: each of its workers otherwise rewrites and compiles every test
# module anew (5 s of CPU each instead of 1 s, measured on 2026-12-03).
BYTECODE := $(BIN)/python -m compileall -q oppcli
# tools/in-memory puts the suite's temporary folders in /dev/shm when it has room (its
# comment says why: 278 s against 237 s for a clean clone).
PYTEST   := tools/in-memory env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest

test: $(TEST_STAMP)
	$(BYTECODE)
	$(PYTEST) -q $(XDIST)

# Eight times the property examples and crash kills of `make test` (each run of either
# draws new examples and kill moments).
test-deep: $(TEST_STAMP)
	$(BYTECODE)
	OPP_TEST_DEPTH=8 $(PYTEST) -q $(XDIST)

# The whole suite under clocks moved 400 and 3,000 days ahead (Debian's faketime):
# a test that hard-codes "the future" fails here on the day it is written.
test-clocks: $(TEST_STAMP)
	$(BYTECODE)
	faketime -f +400d $(PYTEST) -q $(XDIST) -p no:cacheprovider
	faketime -f +3000d $(PYTEST) -q $(XDIST) -p no:cacheprovider

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/bench.py --n $(N)

schemas: $(RUN_STAMP)
	$(BIN)/python -m oppcli.store.schemas --write

# docs/commands.md from the click command tree; tests/test_docs.py fails when it is stale.
docs: $(RUN_STAMP)
	$(BIN)/python tools/gen_commands.py --write

clean:
	rm -rf $(VENV) .demo .pytest_cache .hypothesis .mypy_cache .ruff_cache *.egg-info
