# The two commands the README promises: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo faults-demo test test-fast lint typecheck bench clean venv express-sample
NODE_STAMP := node_modules/.package-lock.json

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,pg]'
	touch $(STAMP)

venv: $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# The Node.js/Express sample target: its npm dependencies, and the Rithmic R|Protocol schema it loads
# with protobufjs, exported from async-rithmic's generated modules (git-ignored, built here).
EXPRESS := targets/express-sample
EXPRESS_STAMP := $(EXPRESS)/node_modules/.package-lock.json
EXPRESS_SCHEMA := $(EXPRESS)/generated/rithmic-descriptor.pb

$(EXPRESS_STAMP): $(EXPRESS)/package.json $(EXPRESS)/package-lock.json
	cd $(EXPRESS) && npm ci --no-audit --no-fund --loglevel=error

$(EXPRESS_SCHEMA): $(STAMP) $(EXPRESS)/scripts/export_rithmic_schema.py
	$(BIN)/python $(EXPRESS)/scripts/export_rithmic_schema.py $@

## express-sample: the Express sample target, ready to run (npm ci, Rithmic schema)
express-sample: $(EXPRESS_STAMP) $(EXPRESS_SCHEMA)

## demo: the full UAT gate against the bundled reference middleware, and its HTML report
demo: $(STAMP) $(NODE_STAMP) express-sample
	$(BIN)/uat gate --target reference --jobs 2 --report reports/demo

## faults-demo: bring up the fault plane and show faults working on a live connection
faults-demo: $(STAMP)
	$(BIN)/python -m harness.faults.demo

## test: lint, type-check and every test, slow suites included (what CI runs). Our modules are
## compiled first: where PYTHONDONTWRITEBYTECODE is set, each of the thousand-odd processes the tests
## start (gates, middlewares, mocks) would otherwise compile them again. The fast tests mostly wait
## on processes they start, so they run on both cores (pytest-xdist: 5.4 min against 9), and so do
## the slow end-to-end tests that run one gate or middleware at a time, in the same run: work
## stealing keeps both cores busy to the end, where two runs each had one core idle while the
## other finished its longest test. Then, alone, the ones that run their own gates side by side
## (`lanes`) and the container tests (`docker`: they share one engine, and each checks that no
## harness container is left, so two at once would see each other's); then the fuzz suites,
## CPU-bound and independent, on both cores.
test: lint typecheck $(NODE_STAMP) express-sample
	$(BIN)/python -m compileall -q harness mocks reference_middleware scenarios
	$(BIN)/python -m pytest -m "not fuzz and not lanes and not docker" -n 2 --dist worksteal
	$(BIN)/python -m pytest -m "(lanes or docker) and not fuzz"
	$(BIN)/python -m pytest -m fuzz -n 2

## test-fast: the development loop, without the slow end-to-end suites
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## bench: the benchmarks; they print figures and ratios, never pass or fail
bench: $(STAMP)
	$(BIN)/python bench/proxy_overhead.py
	$(BIN)/python bench/rithmic_order_rtt.py
	$(BIN)/python bench/rithmic_fanout.py
	$(BIN)/python bench/cqg_fanout.py
	$(BIN)/python bench/cqg_order_rtt.py
	$(BIN)/python bench/rithmic_matching.py
	$(BIN)/python bench/mock_step_history.py
	$(BIN)/python bench/flood.py
	$(BIN)/python bench/flood_sender.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache node_modules $(EXPRESS)/node_modules $(EXPRESS)/generated

## fuzz: the fuzz suites alone, on both cores (about a minute); FUZZ_EXAMPLES=N gives each in-process
## suite N inputs, 10,000 and up, for a longer hunt (derandomized too: the same N, the same inputs)
FUZZ_EXAMPLES ?= 10000
.PHONY: fuzz
fuzz: $(STAMP)
	UAT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -m fuzz -n 2

## flake: the gate N times on one build (same seed each run), each run as JOBS shards side by side,
## each scenario's pass rate in flake.json (e.g. make flake N=50 FLAKE_ARGS="--suite connectivity
## --seed 7"); exit 1 if any run failed a scenario
N ?= 20
JOBS ?= 2
FLAKE_ARGS ?=
.PHONY: flake
flake: $(STAMP)
	$(BIN)/uat gate --repeat $(N) --jobs $(JOBS) --no-html $(FLAKE_ARGS)

## mutants: the mutant matrix at seeds 7 8 9 (slow, ~30 min): the healthy build passes every scenario,
## every mutant is killed at each seed by a scenario that passed without it (CI runs seed 7 only)
.PHONY: mutants
MUTANT_SEEDS ?= 7 8 9
mutants: $(STAMP)
	UAT_MATRIX_SEEDS="$(MUTANT_SEEDS)" $(BIN)/python -m pytest -m slow -s tests/scenarios/test_mutant_matrix.py
