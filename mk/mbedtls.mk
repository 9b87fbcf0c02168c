# mbedtls.mk: the TLS tests again on the second engine, mbedTLS
# (US_TLS=mbedtls), plain and under ASan+UBSan; part of make test. Only
# the TLS tests run (the C ones, the fault-injection ones, and the
# engine's own): the rest of the core does not change with the engine.
#   make test-tls-mbedtls
MBEDTLS_BUILD ?= build-mbedtls
MBEDTLS_ASAN_BUILD ?= build-mbedtls-asan
MBEDTLS_FLAGS = -DUS_TLS=mbedtls -DUS_PYTHON=OFF
MBEDTLS_TARGETS = --target us_tests us_fault_tests us_engine_tests

EXTRA_TESTS += test-tls-mbedtls
CLEAN += $(MBEDTLS_BUILD) $(MBEDTLS_ASAN_BUILD)
.PHONY: test-tls-mbedtls

test-tls-mbedtls: deps-test
	cmake -S . -B $(MBEDTLS_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(MBEDTLS_FLAGS) >/dev/null
	cmake --build $(MBEDTLS_BUILD) -j2 $(MBEDTLS_TARGETS)
	cmake -S . -B $(MBEDTLS_ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DUS_SANITIZE=ON $(MBEDTLS_FLAGS) >/dev/null
	cmake --build $(MBEDTLS_ASAN_BUILD) -j2 $(MBEDTLS_TARGETS)
	$(MBEDTLS_BUILD)/us_tests tls_
	$(MBEDTLS_BUILD)/us_fault_tests fault_tls
	$(MBEDTLS_BUILD)/us_engine_tests
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(MBEDTLS_ASAN_BUILD)/us_tests tls_
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(MBEDTLS_ASAN_BUILD)/us_fault_tests fault_tls
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(MBEDTLS_ASAN_BUILD)/us_engine_tests
