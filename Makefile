# Two commands for a fresh machine (see README): `make book` and `make test`.
# Both create .venv first: the CPU build of torch==2.13.0 before anything that depends on torch,
# then tgnlib with the versions pinned in constraints.txt.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tgnlib-installed
SCALE ?= ci
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1

.PHONY: book test test-browser benchmarks sync clean

$(STAMP): pyproject.toml constraints.txt requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e ".[llm,spinglass,brain,book,dev]"
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

book: $(STAMP)  ## execute every chapter at SCALE (default ci) and render the book
	$(PY) -m tgnlib.book --scale $(SCALE)

test: $(STAMP)  ## the test suite, without the browser test
	$(PY) -m pytest -m "not browser" -q

test-browser: $(STAMP)  ## check the rendered book in headless Chromium (after `make book`)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(PY) -m pytest -m browser -q

benchmarks: $(STAMP)
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

sync:  ## re-pair notebooks/*.py (the source) with their clean .ipynb
	$(VENV)/bin/jupytext --sync notebooks/*.py

clean:
	rm -rf _build
