# Makefile: the short names for the CMake build and the project's jobs.
#   make test   every test, normal and under ASan+UBSan (installs what it needs)
#   make demo   the examples talking to real peers on loopback
#   make bench  the benchmarks (never part of make test)
PYTHON ?= /usr/bin/python3
BUILD ?= build
ASAN_BUILD ?= build-asan
CMAKE_FLAGS = -DPython3_EXECUTABLE=$(PYTHON) -DUS_PYTHON=ON

.PHONY: format-check all build clang asan test test-c test-py test-asan demo clean \
	deps-test deps-demo deps-bench deps-fuzz

all: build

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j2

# The same code must also build warning-free with clang.
clang:
	cmake -S . -B build-clang -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS) >/dev/null
	cmake --build build-clang -j2

asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DUS_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j2

# Explicit rules: make never applies a pattern rule to a phony target.
deps-test deps-demo deps-bench deps-fuzz:
	scripts/deps.sh $(@:deps-%=%)

test: deps-test
	$(MAKE) format-check
	$(MAKE) build clang
	$(MAKE) test-c test-py
	$(MAKE) test-asan
	$(if $(EXTRA_TESTS),$(MAKE) $(EXTRA_TESTS))

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' 2>/dev/null || find src include python tests -name '*.[ch]')

test-c:
	$(BUILD)/us_tests

test-py:
	PYTHONPATH=$(BUILD)/python $(PYTHON) -m pytest -q -rs tests/py

# Python cannot load an ASan-built module unless the runtime comes first.
test-asan: asan
	$(ASAN_BUILD)/us_tests
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	PYTHONPATH=$(ASAN_BUILD)/python $(PYTHON) -m pytest -q -rs -p no:cacheprovider tests/py

demo: deps-demo
	$(MAKE) build
	PYTHONPATH=$(BUILD)/python $(PYTHON) examples/demo.py

# What the builds and tests leave in the tree (mk/*.mk add theirs with
# CLEAN +=): the CMake builds, the C library of README's recipe, what
# `pip install .` writes, Python's caches, the logs of scripts/*-check.sh. fuzz/corpus-work/ stays: it is
# what `make fuzz` found, kept for its next run (rm -rf it to start anew).
CLEAN += $(BUILD) $(ASAN_BUILD) build-clang build-lib dist usocket.egg-info \
  .pytest_cache build-fresh build-busy

clean:
	rm -rf $(CLEAN)
	find . -name .git -prune -o -name __pycache__ -type d -exec rm -rf {} +

# Further targets (bench, fuzz, micropython, ...) live in mk/*.mk; a file
# there adds its part of `make test` with EXTRA_TESTS += target.
-include mk/*.mk
