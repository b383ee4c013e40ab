# porter_bench developer targets (Debian/Ubuntu). CMake does the building; this file
# only strings the usual sequences together. `make help` lists the targets.
#
# Variables: JOBS (parallel jobs, default 2), BUILD_TYPE (default RelWithDebInfo),
# PREFIX (install prefix, default /usr/local), DESTDIR (staging folder for packagers),
# BUILD_DIR (the build tree, default build), CMAKE_ARGS (extra cmake -D options).

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

BUILD_DIR ?= build
ASAN_DIR := build-asan
TSAN_DIR := build-tsan
EXAMPLE_BIN = $(abspath $(BUILD_DIR)/examples/porter_bench_example)
CLI_BIN = $(abspath $(BUILD_DIR)/src/cli/porter-bench)
BENCH_BIN = $(abspath $(BUILD_DIR)/bench/porter_bench_bench)

# Debian packages for the build, the tests, the lint and the analysis layer.
DEB_PACKAGES := build-essential cmake pkg-config libcmocka-dev libjansson-dev clang \
	clang-format libsimdjson-dev libcairo2-dev libpango1.0-dev libpng-dev fonts-dejavu-core \
	openmpi-bin libopenmpi-dev zlib1g-dev
# The Python module (make python, make test-python). python3-torch (large) is for the
# PyTorch training-loop test only; that test is skipped where torch is absent.
PY_DEB_PACKAGES := python3-dev python3-venv python3-pip python3-setuptools python3-pytest \
	python3-numpy python3-pandas python3-torch
# At least one static analyser; cppcheck is installed when neither is present.
DEB_ANALYSERS := cppcheck clang-tidy

# Sources checked by clang-format.
FORMAT_DIRS := $(wildcard include src tests examples bench fuzz python/src)
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
	lint clang-check format tidy bench stress clean distclean python test-python

help:
	@echo "make deps      check (and as root install) the Debian packages needed"
	@echo "make build     RelWithDebInfo build in $(BUILD_DIR)/"
	@echo "make test      warnings-as-errors build + ctest, ASan+UBSan ctest, TSan 'thread' tests,"
	@echo "               the Python module's pytest suite"
	@echo "make example   run the example from here, then plot its records if the CLI is built"
	@echo "make install   build the libraries and the CLI, install them into PREFIX (default"
	@echo "               /usr/local; ldconfig as root), e.g. make install PREFIX=\$$HOME/.local"
	@echo "make lint      clang-format check + static analysis of src/record"
	@echo "make clang-check  build everything with clang, warnings as errors"
	@echo "make format    clang-format -i over the sources"
	@echo "make bench     run the overhead benchmark"
	@echo "make stress    run the tests labelled 'stress'"
	@echo "make python    build and install the Python module into .venv (docs/PYTHON.md)"
	@echo "make test-python  the Python module's pytest suite"
	@echo "make clean     remove the build trees"

deps:
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "deps: not a Debian system; install the equivalents of: $(DEB_PACKAGES) cppcheck"; \
	  exit 0; \
	fi; \
	installed() { [ "$$(dpkg-query -W -f='$${db:Status-Status}' "$$1" 2>/dev/null)" = installed ]; }; \
	missing=""; \
	for p in $(DEB_PACKAGES) $(PY_DEB_PACKAGES); do installed "$$p" || missing="$$missing $$p"; done; \
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

test: deps test-normal test-asan test-tsan test-python
	@echo "make test: all passed (normal, ASan+UBSan, TSan, Python)"

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
	  echo "example: the CLI is $(CLI_BIN); on PATH: export PATH=\"$(patsubst %/,%,$(dir $(CLI_BIN))):\$$PATH\""; \
	else \
	  echo "example: no porter-bench CLI built ($(CLI_BIN)); no charts drawn"; \
	fi

# Builds only what is installed (the libraries and the CLI), configuring the build tree
# only if it is not yet, so that `sudo make install` after `make` changes nothing in it.
# As root (without DESTDIR), when the dynamic loader searches the installed libdir
# (/usr/local/lib on Debian), runs ldconfig so that it knows the new library at once.
# Installed programs and pkg-config links carry a run path, so no prefix needs
# LD_LIBRARY_PATH. Ends with what to add to PATH / PKG_CONFIG_PATH, if anything.
install:
	@[ -f $(BUILD_DIR)/CMakeCache.txt ] || \
	  $(CONFIGURE) $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)
	@targets="porter_bench_shared porter_bench_static"; \
	if $(call has_target,porter-bench); then targets="$$targets porter-bench"; fi; \
	echo "$(CMAKE) --build $(BUILD_DIR) -j $(JOBS) --target $$targets"; \
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS) --target $$targets
	$(CMAKE) --install $(BUILD_DIR) --prefix "$(abspath $(PREFIX))"
	@[ -z "$(DESTDIR)" ] || exit 0; \
	prefix=$$(cd "$(PREFIX)" && pwd); \
	libdir=$$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' $(BUILD_DIR)/CMakeCache.txt); \
	case "$$libdir" in /*) ;; *) libdir="$$prefix/$${libdir:-lib}" ;; esac; \
	ldconfig=$$(command -v ldconfig || echo /sbin/ldconfig); \
	if [ "$$(id -u)" -eq 0 ] && [ -x "$$ldconfig" ] && \
	   "$$ldconfig" -N -X -v 2>/dev/null | grep "^$$libdir:" >/dev/null; then \
	  echo "$$ldconfig"; "$$ldconfig"; \
	fi; \
	echo "install: porter-bench is $$prefix/bin/porter-bench; the libraries are in $$libdir"; \
	case ":$$PATH:" in *":$$prefix/bin:"*) ;; \
	  *) echo "install: put it on PATH:  export PATH=\"$$prefix/bin:\$$PATH\"" ;; esac; \
	pcpath=$$(pkg-config --variable pc_path pkg-config 2>/dev/null || true); \
	case ":$$pcpath:$${PKG_CONFIG_PATH:-}:" in *":$$libdir/pkgconfig:"*) ;; \
	  *) echo "install: for pkg-config:  export PKG_CONFIG_PATH=\"$$libdir/pkgconfig\$${PKG_CONFIG_PATH:+:\$$PKG_CONFIG_PATH}\"" ;; esac

# A clang build of everything with warnings as errors (gcc's build is the one tested).
CLANG_DIR := build-clang
clang-check:
	$(CONFIGURE) $(CLANG_DIR) -DCMAKE_BUILD_TYPE=Debug -DPB_WERROR=ON \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ $(CMAKE_ARGS)
	$(CMAKE) --build $(CLANG_DIR) -j $(JOBS)
	@echo "clang-check: clang -Werror build clean"

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

# The Python module (docs/PYTHON.md): a venv over Debian's Python, the extension built by pip.
PYTHON := /usr/bin/python3
VENV := .venv
python: deps
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VENV)/bin/pip install --no-build-isolation --no-index ./python

test-python: python
	cd python/tests && $(abspath $(VENV))/bin/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(CLANG_DIR) build-python python/build

distclean: clean
	rm -rf TICTOC_PERFORMANCE PLOTS performance_benchmark
