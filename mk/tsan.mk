# tsan.mk: the C tests under ThreadSanitizer (clang, build-tsan/), part of
# make test.
#   make test-tsan   us_tests whole, and us_fault_tests' own fault tests
# Every test runs in a child forked by a single-threaded runner, so TSan
# sees each test's threads from their start. halt_on_error ends a child at
# its first report, which main.c then counts as that test's failure.
TSAN_BUILD ?= build-tsan
TSAN_ENV = TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/c/tsan.supp"

EXTRA_TESTS += test-tsan
CLEAN += $(TSAN_BUILD)
.PHONY: test-tsan tsan

tsan: deps-fuzz
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUS_PYTHON=OFF -DUS_TSAN=ON >/dev/null
	cmake --build $(TSAN_BUILD) -j2 --target us_tests us_fault_tests

test-tsan: tsan
	$(TSAN_ENV) $(TSAN_BUILD)/us_tests
	$(TSAN_ENV) $(TSAN_BUILD)/us_fault_tests fault
