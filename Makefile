# porter_bench developer targets (Debian/Ubuntu). CMake does the building; this file
# only strings the usual sequences together. `make help` lists the targets.
#
# Variables: JOBS (parallel jobs, default 2), BUILD_TYPE (default RelWithDebInfo),
# PREFIX (install prefix, default /usr/local), CMAKE_ARGS (extra cmake -D options).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory
.DEFAULT_GOAL := build

JOBS ?= 2
BUILD_TYPE ?= RelWithDebInfo
PREFIX ?= /usr/local
CMAKE ?= cmake
CTEST ?= ctest
CMAKE_ARGS ?=

BUILD_DIR := build
ASAN_DIR := build-asan
TSAN_DIR := build-tsan
EXAMPLE_BIN = $(abspath $(BUILD_DIR)/examples/porter_bench_example)
CLI_BIN = $(abspath $(BUILD_DIR)/src/cli/porter-bench)
BENCH_BIN = $(abspath $(BUILD_DIR)/bench/porter_bench_bench)

# Debian packages for the build, the tests, the lint and the analysis layer.
DEB_PACKAGES := build-essential cmake pkg-config libcmocka-dev libjansson-dev clang \
	clang-format libsimdjson-dev libcairo2-dev libpango1.0-dev libpng-dev fonts-dejavu-core \
	openmpi-bin libopenmpi-dev
# At least one static analyser; cppcheck is installed when neither is present.
DEB_ANALYSERS := cppcheck clang-tidy

# Sources checked by clang-format.
FORMAT_DIRS := $(wildcard include src tests examples bench fuzz)
FORMAT_FILES = $(shell find $(FORMAT_DIRS) -type f \( -name '*.c' -o -name '*.h' \
	-o -name '*.cc' -o -name '*.cpp' -o -name '*.hpp' \) 2>/dev/null | LC_ALL=C sort)

# Sanitizer run-time options: stop at the first report, leak checks on.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/cmake/lsan.supp:print_suppressions=0
# The thread tests run at full size under TSan (8 threads x 10,000 iterations).
TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 PB_TEST_SCALE=1

CONFIGURE = $(CMAKE) -S . -B
# $(call has_target,NAME): a shell test, true when the configured build has target NAME.
has_target = $(CMAKE) --build $(BUILD_DIR) --target help 2>/dev/null | grep -w -- '$(1)' >/dev/null

.PHONY: help deps configure build test test-normal test-asan test-tsan example install \
	lint format tidy bench stress clean distclean

help:
	@echo "make deps      check (and as root install) the Debian packages needed"
	@echo "make build     RelWithDebInfo build in $(BUILD_DIR)/"
	@echo "make test      warnings-as-errors build + ctest, ASan+UBSan ctest, TSan 'thread' tests"
	@echo "make example   run the example from here, then plot its records if the CLI is built"
	@echo "make install   cmake --install into PREFIX (default /usr/local)"
	@echo "make lint      clang-format check + static analysis of src/record"
	@echo "make format    clang-format -i over the sources"
	@echo "make bench     run the overhead benchmark"
	@echo "make stress    run the tests labelled 'stress'"
	@echo "make clean     remove the build trees"

deps:
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "deps: not a Debian system; install the equivalents of: $(DEB_PACKAGES) cppcheck"; \
	  exit 0; \
	fi; \
	installed() { [ "$$(dpkg-query -W -f='$${db:Status-Status}' "$$1" 2>/dev/null)" = installed ]; }; \
	missing=""; \
	for p in $(DEB_PACKAGES); do installed "$$p" || missing="$$missing $$p"; done; \
	analyser=""; \
	for p in $(DEB_ANALYSERS); do installed "$$p" && analyser="$$p"; done; \
	[ -n "$$analyser" ] || missing="$$missing cppcheck"; \
	if [ -z "$$missing" ]; then echo "deps: all packages present"; exit 0; fi; \
	echo "deps: missing:$$missing"; \
	cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$$missing"; \
	if [ "$$(id -u)" -eq 0 ]; then \
	  echo "deps: $$cmd"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else \
	  echo "deps: run as root:"; \
	  echo "  sudo sh -c '$$cmd'"; \
	  exit 1; \
	fi

configure:
	$(CONFIGURE) $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

build: configure
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

test: deps test-normal test-asan test-tsan
	@echo "make test: all passed (normal, ASan+UBSan, TSan)"

test-normal:
	$(CONFIGURE) $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DPB_WERROR=ON $(CMAKE_ARGS)
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && $(CTEST) --output-on-failure -j $(JOBS) --label-exclude stress

test-asan:
	$(CONFIGURE) $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DPB_SANITIZE=address -DPB_WERROR=ON \
	  -DPB_BUILD_BENCH=OFF -DPB_BUILD_EXAMPLES=OFF $(CMAKE_ARGS)
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && $(ASAN_ENV) $(CTEST) --output-on-failure -j $(JOBS) --label-exclude stress

test-tsan:
	$(CONFIGURE) $(TSAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DPB_SANITIZE=thread -DPB_WERROR=ON \
	  -DPB_BUILD_BENCH=OFF -DPB_BUILD_EXAMPLES=OFF -DPB_BUILD_ANALYSIS=OFF $(CMAKE_ARGS)
	$(CMAKE) --build $(TSAN_DIR) -j $(JOBS)
	cd $(TSAN_DIR) && $(TSAN_ENV) $(CTEST) -L thread --output-on-failure -j $(JOBS) \
	  --no-tests=error

# Builds only what it runs: the example and, when the analysis layer is on, the CLI.
example: deps configure
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS) --target porter_bench_example
	@if $(call has_target,porter-bench); then \
	  echo "$(CMAKE) --build $(BUILD_DIR) -j $(JOBS) --target porter-bench"; \
	  $(CMAKE) --build $(BUILD_DIR) -j $(JOBS) --target porter-bench; \
	fi
	@echo "$(EXAMPLE_BIN)"; \
	log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	$(EXAMPLE_BIN) | tee "$$log"; \
	dir=$$(sed -n 's|^records saved in \(.*\)/$$|\1|p' "$$log"); \
	case "$$dir" in /*) ;; *) dir="$(CURDIR)/$$dir" ;; esac; \
	echo "example: records are in $$dir/"
	@if [ -x $(CLI_BIN) ]; then \
	  $(CLI_BIN) plots --path . --output PLOTS && \
	  echo "example: charts are in $(CURDIR)/PLOTS/"; \
	else \
	  echo "example: no porter-bench CLI built ($(CLI_BIN)); no charts drawn"; \
	fi

install: build
	$(CMAKE) --install $(BUILD_DIR) --prefix "$(PREFIX)"

lint: configure
	@test -n "$(FORMAT_FILES)" || { echo "lint: no sources found"; exit 1; }
	clang-format --dry-run --Werror $(FORMAT_FILES)
	@echo "lint: clang-format clean ($(words $(FORMAT_FILES)) files)"
	@if command -v cppcheck >/dev/null 2>&1; then \
	  echo "lint: cppcheck src/record"; \
	  mkdir -p $(BUILD_DIR)/cppcheck; \
	  cppcheck --project=$(BUILD_DIR)/compile_commands.json --file-filter='*src/record/*' \
	    --enable=warning,performance,portability --inline-suppr \
	    --suppress=missingIncludeSystem --error-exitcode=1 --quiet \
	    --cppcheck-build-dir=$(BUILD_DIR)/cppcheck -j $(JOBS); \
	elif command -v clang-tidy >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory tidy; \
	else \
	  echo "lint: neither cppcheck nor clang-tidy installed (make deps)"; exit 1; \
	fi
	@echo "lint: passed"

tidy: configure
	clang-tidy -p $(BUILD_DIR) --quiet $(wildcard src/record/*.c)

format:
	clang-format -i $(FORMAT_FILES)

bench: configure
	@if $(call has_target,porter_bench_bench); then \
	  $(CMAKE) --build $(BUILD_DIR) -j $(JOBS) --target porter_bench_bench && $(BENCH_BIN); \
	else echo "bench: no benchmark in this build (bench/CMakeLists.txt, PB_BUILD_BENCH)"; fi

stress: build
	cd $(BUILD_DIR) && $(CTEST) -L stress --output-on-failure --no-tests=ignore

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR)

distclean: clean
	rm -rf TICTOC_PERFORMANCE PLOTS performance_benchmark
