# kvabench: `make run` and `make test` install what is missing, build, and run.
SHELL := /bin/bash
BUILD ?= build
JOBS ?= $(shell nproc)
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: all deps configure build test run bench clean

all: build

deps:
	@./scripts/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DKVA_PYTHON=$(CURDIR)/$(PY)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(PY) -m pytest -q tests/python

run: build
	$(BUILD)/runner/kvabench run testcases/

bench: build
	@for b in $(BUILD)/bench/bench_*; do [ -x $$b ] && $$b --benchmark_min_time=0.2s; done

clean:
	rm -rf $(BUILD)
