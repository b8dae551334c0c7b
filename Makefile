# The two commands of the README: `make demo` and `make test`. Everything else is set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-slow bench bench-mnist bench-remedies lint clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Re-installs only when pyproject.toml changed (the package itself is installed editable).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/gankit train --preset gaussian-1d

# The report's browser test needs Debian's chromium; installing it is best effort (the test skips
# with a clear message where it cannot be installed).
browser:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1; } || \
	  echo "chromium not installed: the browser test will be skipped"

# The import contract first (seconds): a new upward import or cycle fails CI before the suite runs.
test: install browser
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n 2 -q

test-slow: install
	$(BIN)/python -m pytest -n 2 -q -m slow

bench: install
	$(BIN)/python benchmarks/trainer_overhead.py
	$(BIN)/python benchmarks/dcgan_step.py --size 28 --channels 1 --threads 1 --rounds 30
	$(BIN)/python benchmarks/dcgan_step.py --size 32 --channels 3 --threads 1 --rounds 30
	$(BIN)/python benchmarks/fid_speed.py
	$(BIN)/python benchmarks/features_speed.py
	$(BIN)/python benchmarks/eval_cost.py --threads 1
	$(BIN)/python benchmarks/digits_fid_scale.py
	$(BIN)/python benchmarks/toy_eval_cost.py

# Issue 23's MNIST comparison (needs the MNIST files, DATA=folder): the mnist preset against a
# textbook 28x28 DCGAN at the same wall-clock and threads, both judged by an independent LeNet
# (trained once, about 70 s, then cached); 5 seeds, about 20 minutes each on one thread.
DATA ?= ../shared/data/mnist
bench-mnist: install
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python benchmarks/mnist_compare.py --data $(DATA) \
		--seeds 0 1 2 3 4 --json benchmarks/results/mnist-compare-$$(date +%F).json

# The remedy matrix (issue 4): every failure preset x remedy x 5 seeds; about an hour on 2 cores.
bench-remedies: install
	$(BIN)/python benchmarks/remedies.py --workers 2

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) build src/*.egg-info
