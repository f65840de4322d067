# pixvault: the README's commands.
#   make run                install what is missing, build, make sample media in ./samples and
#                           serve the HTTP API on 127.0.0.1:8080 with data in ./pixvault-data
#   make import DIR=folder  import a folder with the CLI and list it
#   make test               install what is missing, build (optimised + ASan/UBSan) and run
#                           every test, PostgreSQL included
#   make bench              benchmarks, written to docs/benchmarks.md

SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build/release
ASAN_BUILD ?= build/asan
DATA_DIR ?= ./pixvault-data
WERROR ?= ON
PIXVAULT := $(BUILD)/src/app/pixvault

.PHONY: deps build build-asan run import test test-release test-asan bench fuzz format format-check clean

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DPIXVAULT_BUILD_TESTS=ON \
	  -DPIXVAULT_WERROR=$(WERROR)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j$(JOBS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPIXVAULT_SANITIZE=ON \
	  -DPIXVAULT_BUILD_TESTS=ON -DPIXVAULT_BUILD_BENCH=OFF -DPIXVAULT_WERROR=$(WERROR)

build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j$(JOBS)

run: build
	@bash scripts/make-samples.sh samples >/dev/null
	@echo "pixvault: in another terminal, create an API key: $(PIXVAULT) key create local"
	$(PIXVAULT) --data-dir $(DATA_DIR) serve $(if $(LISTEN),--listen $(LISTEN),)

import: build
	@if [ -z "$(DIR)" ]; then bash scripts/make-samples.sh samples; fi
	$(PIXVAULT) --data-dir $(DATA_DIR) import --recursive $(or $(DIR),samples)
	$(PIXVAULT) --data-dir $(DATA_DIR) ls

# Every test against SQLite and a throwaway PostgreSQL server, in both builds.
test: build build-asan
	PIXVAULT_REQUIRE_PG=1 bash scripts/with-postgres.sh \
	  bash -c 'ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) && \
	           ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)'

test-release: build
	PIXVAULT_REQUIRE_PG=1 bash scripts/with-postgres.sh ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

# libFuzzer targets (clang), each run for FUZZ_SECONDS.
FUZZ_SECONDS ?= 30
fuzz: deps
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

bench: deps
	bash scripts/bench.sh

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

format-check:
	git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf build
