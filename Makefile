# Two commands do all the set-up (see README.md):
#   make tutorial   create .venv, install, execute every notebook on the bundled data
#   make test       create .venv, install with test tools, lint, run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUTPUT_DIR ?= outputs
# One thread per BLAS/OpenMP pool, as on mybinder.org (1 CPU).
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: tutorial lab test lint benchmarks data notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,lab]"
	touch $@

tutorial: $(VENV)/.installed
	$(BIN)/python -m odse_tutorial.tutorial --output-dir $(OUTPUT_DIR)

# JupyterLab with the tutorial's settings (binder/overrides.json: widget state is saved
# with the notebook, so a reopened notebook still shows its map explorer).
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
# The Dask dashboard is linked through the Jupyter server (jupyter-server-proxy), so the
# link a notebook prints opens wherever JupyterLab does (also over SSH port forwarding).
lab: $(VENV)/.installed
	mkdir -p $(LAB_SETTINGS) && cp binder/overrides.json $(LAB_SETTINGS)/overrides.json
	DASK_DISTRIBUTED__DASHBOARD__LINK='/proxy/{port}/status' $(BIN)/jupyter lab notebooks/

test: lint
	$(BIN)/python -m pytest

# Notebook sources are checked (with the notebook exceptions of pyproject.toml), not
# formatted: their line breaks are part of the teaching layout.
lint: $(VENV)/.installed
	$(BIN)/ruff check odse_tutorial tests benchmarks notebooks/src
	$(BIN)/ruff format --check odse_tutorial tests benchmarks

benchmarks: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_predict.py --size 1000
	$(BIN)/python benchmarks/bench_notebooks.py

# Rebuild notebooks/*.ipynb (without outputs) from their sources in notebooks/src/, with
# the kernelspec and language_info that JupyterLab writes when it starts the kernel, so an
# untouched notebook opens (and closes) unmodified. --update keeps the cell ids of an
# existing notebook: a rebuild changes only the cells whose source changed.
LANGUAGE_INFO = $(BIN)/python -c 'import json; from ipykernel.ipkernel import IPythonKernel; \
	print(json.dumps({"language_info": IPythonKernel.language_info}))'
notebooks: $(VENV)/.installed
	metadata="$$($(LANGUAGE_INFO))"; for src in notebooks/src/*.py; do \
		out=notebooks/$$(basename $$src .py).ipynb; \
		$(BIN)/jupytext --to ipynb $$([ -f $$out ] && echo --update) --set-kernel python3 \
			--update-metadata "$$metadata" --output $$out $$src || exit 1; \
	done

# Regenerate the bundled dataset (it is committed; a test checks it is reproducible).
data: $(VENV)/.installed
	rm -rf data/simulated.new
	$(BIN)/python -m odse_tutorial.simulation data/simulated.new
	rm -rf data/simulated && mv data/simulated.new data/simulated
	cp data/simulated/SHA256SUMS odse_tutorial/registries/simulated.sha256

clean:
	rm -rf $(VENV) $(OUTPUT_DIR) .pytest_cache .ruff_cache
