# Every target installs into a local .venv first when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INSTANCE ?= instances/atlas950-superpod.yaml

TIME_LIMIT ?= 60
SOLVE_FLAGS ?= --time-limit $(TIME_LIMIT) --seed 0 --workers 2

.PHONY: install run build solve results report optimize test bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The main job: solve the default instance and write its report.
run: $(STAMP)
	$(BIN)/topo-opt solve $(INSTANCE) $(SOLVE_FLAGS) --out results/$(notdir $(INSTANCE:.yaml=.json))
	$(BIN)/topo-opt report results/$(notdir $(INSTANCE:.yaml=.json))

solve: $(STAMP)
	$(BIN)/topo-opt solve $(INSTANCE) $(SOLVE_FLAGS)

# Every shipped instance into results/ (committed, so readers see designs without running anything).
results: $(STAMP)
	@for f in instances/*.yaml; do \
	  echo "== $$f"; $(BIN)/topo-opt solve $$f $(SOLVE_FLAGS) --quiet --force || exit $$?; \
	done

report: $(STAMP)
	$(BIN)/topo-opt report results/$(notdir $(INSTANCE:.yaml=.json))

# The Atlas 950 question: which fabric for 8,192 Ascend 950DT under its floor and power (issue 11).
optimize: $(STAMP)
	$(BIN)/topo-opt optimize instances/search/atlas950.yaml --workers 2
	$(BIN)/topo-opt report results/search/atlas950

build: $(STAMP)
	$(BIN)/topo-opt build $(INSTANCE)

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check topo_opt tests bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache results/*-report
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
