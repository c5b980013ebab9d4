# Makefile - the everyday commands, a thin layer over CMake:
#
#   make demo      install missing packages, build build/, run `weft demo`
#   make test      what CI runs: warnings-as-errors build + all tests, then
#                  ASan+UBSan (all but install), then TSan (label tsan)
#   make bench     Release build in build-bench/ and bench/run.sh
#   make install   into PREFIX (/usr/local); DESTDIR is honoured
#   make clean     remove the build directories
#
# Smaller steps: make build, test-release, test-asan, test-tsan, deps,
# format, format-check.

PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_JOBS ?= 2
CMAKE ?= cmake
CTEST ?= ctest
CMAKE_FLAGS ?=

# Keep cmake --build's own make quiet about directories.
MAKEFLAGS += --no-print-directory

step = @printf '\n==> %s\n' "$(1)"

# Recent kernels randomise mmap more than GCC 12's TSan accepts
# ("unexpected memory mapping"); run TSan tests with ASLR off there.
TSAN_WRAP := $(shell [ "$$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)" -gt 28 ] \
  && setarch "$$(uname -m)" -R true 2>/dev/null && echo setarch "$$(uname -m)" -R)

# Steps run one after another; the parallelism is inside each build (-j).
.NOTPARALLEL:

.PHONY: all demo build deps deps-test deps-bench test test-release test-asan test-tsan \
  bench install clean format format-check

all: build

deps:
	$(call step,deps: build examples)
	@scripts/deps.sh build examples

# The tests also drive the dashboard in a headless browser.
deps-test:
	$(call step,deps: build examples browser)
	@scripts/deps.sh build examples browser

deps-bench:
	$(call step,deps: build bench)
	@scripts/deps.sh build bench

# configure(dir,flags) and compile(dir). No commas in $(call step,...) text:
# make splits arguments there.
configure = $(CMAKE) -S . -B $(1) $(2) $(CMAKE_FLAGS) >/dev/null
compile = $(CMAKE) --build $(1) -j$(JOBS)

build: deps
	$(call step,build: build/)
	@$(call configure,build,)
	@$(call compile,build)

demo: build
	$(call step,demo: build/weft demo)
	@mkdir -p build/demo
	@cd build/demo && WEFT_DEMO_FAST=0 ../weft demo
	@echo "(pictures and files the examples wrote are in build/demo/)"

test: test-release test-asan test-tsan
	$(call step,test: all passed)

test-release: deps-test
	$(call step,test: build/ (-Werror) - all tests)
	@$(call configure,build,-DWEFT_WERROR=ON -DWEFT_TESTS_REQUIRED=ON -DWEFT_SANITIZE=)
	@$(call compile,build)
	@cd build && $(CTEST) --no-tests=error --output-on-failure -j$(CTEST_JOBS)

test-asan: deps-test
	$(call step,test: build-asan/ (ASan+UBSan) - all tests but label install)
	@$(call configure,build-asan,-DWEFT_WERROR=ON -DWEFT_TESTS_REQUIRED=ON -DWEFT_SANITIZE=address)
	@$(call compile,build-asan)
	@cd build-asan && $(CTEST) --no-tests=error --output-on-failure -j$(CTEST_JOBS) -LE install

test-tsan: deps-test
	$(call step,test: build-tsan/ (TSan) - label tsan)
	@$(call configure,build-tsan,-DWEFT_WERROR=ON -DWEFT_TESTS_REQUIRED=ON -DWEFT_SANITIZE=thread)
	@$(call compile,build-tsan)
	@cd build-tsan && $(TSAN_WRAP) $(CTEST) --no-tests=error --output-on-failure -j$(CTEST_JOBS) -L tsan

bench: deps-bench
	$(call step,bench: build-bench/ (Release; benchmarks -O3 -march=native))
	@$(call configure,build-bench,-DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_BENCH=ON -DWEFT_BUILD_TESTS=OFF)
	@$(call compile,build-bench)
	$(call step,bench: bench/run.sh)
	@if [ -f bench/run.sh ]; then \
	  WEFT_BUILD_DIR="$(CURDIR)/build-bench" WEFT_BIN="$(CURDIR)/build-bench/weft" \
	  WEFT_SOURCE_DIR="$(CURDIR)" bash bench/run.sh; \
	else echo "no bench/run.sh yet: benchmarks built in build-bench/"; fi

# Only the library and the command are built for install: not the tests,
# not the example programs (their code is inside the command).
install: deps
	$(call step,install: build/ (library and command) - $(DESTDIR)$(PREFIX))
	@$(call configure,build,)
	@$(CMAKE) --build build -j$(JOBS) --target weft weft_cli
	@DESTDIR="$(DESTDIR)" $(CMAKE) --install build --prefix "$(PREFIX)"
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

clean:
	$(call step,clean)
	rm -rf build build-asan build-tsan build-bench

FORMAT_FILES = $(shell git ls-files --cached --others --exclude-standard \
  '*.c' '*.h' '*.cpp' 2>/dev/null)

format:
	$(call step,format: clang-format -i)
	@clang-format -i $(FORMAT_FILES)

format-check:
	$(call step,format-check: clang-format --dry-run)
	@clang-format --dry-run --Werror $(FORMAT_FILES)
