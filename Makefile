# kvabench: `make run` and `make test` install what is missing, build, and run.
SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc)
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: all deps configure build python stubs test run bench clean

all: build

deps:
	@./scripts/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DKVA_PYTHON=$(CURDIR)/$(PY)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The Python package, built by pyproject.toml (scikit-build-core) and installed into the venv so
# pytest imports what was just built: the same route as a user's `pip install .`, but without
# build isolation (the venv has the build requirements) and with a persistent CMake tree in
# $(BUILD)/python so that rebuilds are incremental.
python: build
	CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) $(PY) -m pip install -q --no-build-isolation --no-deps \
	  --disable-pip-version-check --root-user-action=ignore -Cbuild-dir=$(BUILD)/python .

# The type stub of the compiled module, from its pybind11 signatures (after changing bindings).
stubs: python
	$(PY) scripts/gen_core_stub.py python/kvabench/_core.pyi

test: build python
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(PY) -m pytest -q tests/python

run: build
	$(BUILD)/runner/kvabench run testcases/

# One table per arch of the registry (docs/performance.md), results.json and the shootdown plot
# in $(BENCH_OUT). BENCH_FLAGS=--quick for a shorter run.
BENCH_OUT ?= $(BUILD)/bench-results
bench: build
	$(BUILD)/bench/kvabench-bench --out $(BENCH_OUT) --kvabench $(BUILD)/runner/kvabench --testcases testcases/ $(BENCH_FLAGS)
	$(PY) bench/plot_shootdown.py $(BENCH_OUT)/results.json $(BENCH_OUT)/shootdown.png

clean:
	rm -rf $(BUILD)
