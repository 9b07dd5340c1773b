# Every target installs into a local .venv first when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INSTANCE ?= instances/atlas950-superpod.yaml

TIME_LIMIT ?= 60
SOLVE_FLAGS ?= --time-limit $(TIME_LIMIT) --seed 0 --workers 2

RUN_DIR := results/run
RESULT = $(RUN_DIR)/$(notdir $(INSTANCE:.yaml=.json))

.PHONY: install run build solve results report screenshot optimize test fuzz bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The main job: solve the default instance and write its report into results/run/ (git-ignored, so a
# fresh clone stays clean; the committed results/*.json are refreshed by `make results`).
run: $(STAMP)
	$(BIN)/topo-opt solve $(INSTANCE) $(SOLVE_FLAGS) --out $(RESULT)
	$(BIN)/topo-opt report $(RESULT) --out $(RESULT:.json=-report)

solve: $(STAMP)
	$(BIN)/topo-opt solve $(INSTANCE) $(SOLVE_FLAGS) --out $(RESULT)

# Every shipped instance into results/ (committed, so readers see designs without running anything).
results: $(STAMP)
	@for f in instances/*.yaml; do \
	  echo "== $$f"; $(BIN)/topo-opt solve $$f $(SOLVE_FLAGS) --quiet --force || exit $$?; \
	done

report: $(STAMP)
	$(BIN)/topo-opt report results/$(notdir $(INSTANCE:.yaml=.json))

# A headless-Chromium screenshot of the committed Atlas 950 report (results/atlas950-report.png).
screenshot: $(STAMP)
	$(BIN)/topo-opt report results/atlas950-superpod.json
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=10000 \
	  --window-size=1280,3400 --screenshot=results/atlas950-report.png \
	  "file://$(CURDIR)/results/atlas950-superpod-report/index.html"

# The Atlas 950 question: which fabric for 8,192 Ascend 950DT under its floor and power (issue 11).
optimize: $(STAMP)
	$(BIN)/topo-opt optimize instances/search/atlas950.yaml --workers 2
	$(BIN)/topo-opt report results/search/atlas950

build: $(STAMP)
	$(BIN)/topo-opt build $(INSTANCE)

# Spread over the machine's cores (pytest-xdist): the suite is mostly single-threaded work.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

# The property-based bad-input suite with its long profile (>= 2,000 cases; tests/conftest.py).
fuzz: $(STAMP)
	TOPO_OPT_HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_fuzz.py --hypothesis-show-statistics

bench: $(STAMP)
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check topo_opt tests bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis results/*-report $(RUN_DIR)
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
