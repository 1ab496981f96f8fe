# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench preset-g2p clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall when the package metadata changes.
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/seqkeras demo

test: $(VENV)/.installed-dev
	SEQKERAS_SMOKE=1 $(BIN)/python -m pytest --nbmake tests notebooks

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/rnn_speed.py --write benchmarks/RESULTS.md

# Retrains the g2p model (about an hour on 2 cores), measures it against Phonetisaurus and
# rewrites the shipped preset seqkeras/presets/g2p-cmudict (bundle + preset.json with hashes).
preset-g2p: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/g2p_training.py --out runs/g2p/preset/task --budget-min 65 --decay 0.7
	$(BIN)/python benchmarks/g2p.py --task-dir runs/g2p/preset/task --out runs/g2p/preset \
		--preset-out seqkeras/presets/g2p-cmudict --attempt "make preset-g2p" \
		--write benchmarks/RESULTS.md

clean:
	rm -rf $(VENV) runs .pytest_cache
