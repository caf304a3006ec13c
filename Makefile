# kvabench: `make run` and `make test` install what is missing, build, and run.
SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc)
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

SANITIZE_BUILD ?= build-sanitize
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all deps configure build python test test-sanitize fuzz run bench clean

all: build

deps:
	@./scripts/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DKVA_PYTHON=$(CURDIR)/$(PY)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The Python package, built by pyproject.toml (scikit-build-core) and installed into the venv so
# pytest imports what was just built. Incremental: the CMake tree persists in build/python.
python: build
	CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) $(PY) -m pip install -q --no-build-isolation --no-deps \
	  --disable-pip-version-check --root-user-action=ignore .

test: build python
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(PY) -m pytest -q tests/python

# The C++ tests, the fuzz corpora, the testcase library (with and without every fault switch)
# and the CLI suites, built with ASan + UBSan in $(SANITIZE_BUILD); any sanitizer report fails.
test-sanitize: deps
	cmake -S . -B $(SANITIZE_BUILD) -DKVA_PYTHON=$(CURDIR)/$(PY) -DKVA_SANITIZE=ON -DKVA_BUILD_BENCH=OFF
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	JOBS=$(JOBS) tests/sanitize.sh $(SANITIZE_BUILD)

# Coverage-guided fuzzing (clang, libFuzzer + ASan/UBSan) for FUZZ_SECONDS per target; new
# corpus entries stay in $(FUZZ_BUILD)/corpus, crashes in $(FUZZ_BUILD)/artifacts.
fuzz:
	./scripts/deps.sh --fuzz
	cmake -S . -B $(FUZZ_BUILD) -DKVA_PYTHON=$(CURDIR)/$(PY) -DKVA_LIBFUZZER=ON -DKVA_BUILD_BENCH=OFF \
	  -DCMAKE_CXX_COMPILER=clang++
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_testcase_loader fuzz_op_sequence
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

run: build
	$(BUILD)/runner/kvabench run testcases/

# One table per arch of the registry (docs/performance.md), results.json and the shootdown plot
# in $(BENCH_OUT). BENCH_FLAGS=--quick for a shorter run.
BENCH_OUT ?= $(BUILD)/bench-results
bench: build
	$(BUILD)/bench/kvabench-bench --out $(BENCH_OUT) --kvabench $(BUILD)/runner/kvabench --testcases testcases/ $(BENCH_FLAGS)
	$(PY) bench/plot_shootdown.py $(BENCH_OUT)/results.json $(BENCH_OUT)/shootdown.png
	$(BUILD)/bench/kvabench-bench-model --benchmark_min_time=0.2

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(FUZZ_BUILD)
