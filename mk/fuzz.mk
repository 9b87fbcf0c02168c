# fuzz.mk: the libFuzzer targets (clang only, in a build of their own) and
# the fault-injection tests; fuzz-short and test-fault are part of make test.
#   make fuzz          each target for long (see below); what it finds that
#                      is new is kept in fuzz/corpus-work/ for the next run
#   make fuzz-short    each target for FUZZ_SHORT_SECONDS, from the seeds
#   make test-fault    tests/fault, plain and under ASan+UBSan
#   make fuzz-py       fuzz/py_calls.py under ASan+UBSan for PY_FUZZ_SECONDS
#                      (make fuzz runs it for PY_FUZZ_LONG_SECONDS)
FUZZ_BUILD ?= build-fuzz
FUZZ_TARGETS ?= fuzz_addr fuzz_stream fuzz_tls
# make fuzz runs each target long enough for 10 million runs at the rates
# measured on a shared 2-core machine (fuzz/README.md): fuzz_addr does
# ~100k runs/s, fuzz_stream, whose every run makes dozens of calls, ~4k.
# fuzz_tls runs a whole TLS handshake each time (~300 runs/s): an hour
# gives it a million. FUZZ_SECONDS, when given, sets one length for every
# target.
FUZZ_SECONDS_fuzz_addr ?= 300
FUZZ_SECONDS_fuzz_stream ?= 3000
FUZZ_SECONDS_fuzz_tls ?= 3600
FUZZ_SHORT_SECONDS ?= 15

# fuzz/py_calls.py: random calls with hostile arguments into the Python
# modules from several threads. PY_FUZZ_SEED repeats a run's seed.
PY_FUZZ_SECONDS ?= 45
PY_FUZZ_LONG_SECONDS ?= 1800
PY_FUZZ_ASAN = LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  PYTHONMALLOC=malloc PYTHONPATH=$(ASAN_BUILD)/python

EXTRA_TESTS += fuzz-short test-fault fuzz-py
CLEAN += $(FUZZ_BUILD)
.PHONY: fuzz fuzz-short fuzz-build test-fault fuzz-py

fuzz-build: deps-fuzz
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUS_PYTHON=OFF -DUS_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j2 --target $(FUZZ_TARGETS)

# $(call fuzz_run,seconds,work dir): runs each target in turn (seconds
# empty: its own length), new inputs going to <work dir>/<target>, and
# prints its runs and rate. Longer inputs than max_len only slow a target
# down: none needs them. ASan's default 256 MB quarantine of freed memory
# lets fuzz_stream's many buffers swell past 1 GB; 32 MB keeps it small.
define fuzz_run
	@for tl in $(foreach t,$(FUZZ_TARGETS),$(t):$(or $(1),$(FUZZ_SECONDS_$(t)))); do \
	  t=$${tl%%:*}; secs=$${tl#*:}; \
	  mkdir -p $(2)/$$t; \
	  case $$t in fuzz_stream|fuzz_tls) len=1024;; *) len=256;; esac; \
	  log=$(FUZZ_BUILD)/$$t.log; \
	  ASAN_OPTIONS=quarantine_size_mb=32 $(FUZZ_BUILD)/$$t -max_total_time=$$secs \
	    -max_len=$$len -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/$$t- $(2)/$$t fuzz/corpus/$$t >$$log 2>&1 || \
	    { tail -n 40 $$log; echo "fuzz: $$t FAILED (input saved as $(FUZZ_BUILD)/$$t-*)"; exit 1; }; \
	  awk -v t=$$t -v s=$$secs '/^stat::number_of_executed_units/ { n = $$2 } \
	    /^stat::average_exec_per_sec/ { r = $$2 } \
	    END { printf "fuzz: %s: %d runs in %d s, %d exec/s\n", t, n, s, r }' $$log; \
	done
endef

fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_SECONDS),fuzz/corpus-work)
	$(MAKE) fuzz-py PY_FUZZ_SECONDS=$(or $(FUZZ_SECONDS),$(PY_FUZZ_LONG_SECONDS))

fuzz-py: asan
	$(PY_FUZZ_ASAN) $(PYTHON) fuzz/py_calls.py --seconds $(PY_FUZZ_SECONDS) \
	  $(if $(PY_FUZZ_SEED),--seed $(PY_FUZZ_SEED))

fuzz-short: fuzz-build
	rm -rf $(FUZZ_BUILD)/corpus-short
	$(call fuzz_run,$(FUZZ_SHORT_SECONDS),$(FUZZ_BUILD)/corpus-short)

# The normal and the ASan builds both hold us_fault_tests.
test-fault: build asan
	$(BUILD)/us_fault_tests
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(ASAN_BUILD)/us_fault_tests
