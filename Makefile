# Two commands on a fresh machine: `make demo` and `make test`.
# Every install goes through constraints.txt (today's tested versions) so CI is reproducible;
# setup.cfg holds the ranges a library publishes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet -c constraints.txt
# `make notebooks` runs every notebook at this size and commits the outputs (see notebooks/README.md).
NOTEBOOK_SMOKE ?= 1
TYPED := seqkeras/decoding seqkeras/metrics seqkeras/text seqkeras/runtime seqkeras/layers export seqkeras/tasks/base.py seqkeras/png.py seqkeras/plotting.py

.PHONY: demo test lint notebooks constraints bench preset-g2p clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall when the package metadata or the pins change.
$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e ".[train,tasks]"
	touch $@

$(VENV)/.installed-dev: setup.cfg pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e ".[dev]"
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/seqkeras demo

test: $(VENV)/.installed-dev
	SEQKERAS_SMOKE=1 $(BIN)/python -m pytest --nbmake tests notebooks

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(TYPED)

# Re-executes the notebooks one at a time and writes their outputs into the .ipynb files.
notebooks: $(VENV)/.installed-dev
	SEQKERAS_SMOKE=$(NOTEBOOK_SMOKE) nice -n 10 $(BIN)/python notebooks/execute.py

# Re-resolves today's versions of everything `.[dev]` brings into constraints.txt.
constraints: | $(BIN)/python
	$(BIN)/python .ci/lock.py > constraints.txt.new && mv constraints.txt.new constraints.txt

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/rnn_speed.py --write benchmarks/RESULTS.md

# Retrains the g2p model (62 min on 2 AMD EPYC cores; run again to continue a stopped run),
# averages its last checkpoints, measures it against Phonetisaurus and rewrites the shipped
# preset seqkeras/presets/g2p-cmudict (bundle + preset.json with hashes). A second model
# (`g2p_training.py --set seed=1`) can be decoded jointly with it: `benchmarks/g2p.py --join`.
preset-g2p: $(VENV)/.installed
	$(PIP) -e ".[bench]"
	$(BIN)/python benchmarks/g2p_training.py --out runs/g2p/preset/task --budget-min 82 \
		--epochs 26 --decay 0.85 --patience 4
	$(BIN)/python benchmarks/g2p_average.py --out runs/g2p/preset/task --last 3
	$(BIN)/python benchmarks/g2p.py --task-dir runs/g2p/preset/task --out runs/g2p/preset \
		--preset-out seqkeras/presets/g2p-cmudict --attempt "make preset-g2p" \
		--write benchmarks/RESULTS.md

clean:
	rm -rf $(VENV) runs .pytest_cache build *.egg-info
