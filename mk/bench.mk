# bench.mk: `make bench`, the benchmarks of bench/ (never part of make test).
#   make bench                     every workload, BENCH_REPS repetitions
#   make bench BENCH_QUICK=1       small sizes, 2 repetitions: a smoke check
#   make bench MICROPYTHON=/path/to/micropython
#                                  the stream workloads under MicroPython
#                                  too (several binaries: separate by ':')
# The TLS workloads' C API row on mbedTLS comes from the mbedTLS build
# (mbedtls.mk's build-mbedtls/), made here if it is not there.
# Results: bench/results/ (results.json, ratios.png, the raw counts) and,
# for a full run only (not BENCH_QUICK), the results table in bench/README.md.
BENCH_REPS ?=
BENCH_QUICK ?=
MICROPYTHON ?=

.PHONY: bench
CLEAN += bench/results

bench: deps-bench
	$(MAKE) build
	cmake -S . -B $(MBEDTLS_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(MBEDTLS_FLAGS) >/dev/null
	cmake --build $(MBEDTLS_BUILD) -j2 --target bench_tls_capi
	BUILD="$(BUILD)" BENCH_REPS="$(BENCH_REPS)" BENCH_QUICK="$(BENCH_QUICK)" \
	  MICROPYTHON="$(MICROPYTHON)" $(PYTHON) bench/run.py
