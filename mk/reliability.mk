# reliability.mk: the C tests under valgrind's memcheck, part of make test.
#   make valgrind-c
VALGRIND_LOGS = $(BUILD)/valgrind
# Tests whose time bounds cannot hold under memcheck, which re-checks the
# whole 64 MB buffer on every send: they are left out of this run (they
# run in the normal and ASan ones).
VALGRIND_SLOW_TESTS ?= stream_sendall_deadline_bounds_whole_call

EXTRA_TESTS += valgrind-c
.PHONY: valgrind-c

# main.c runs each test in a forked child: memcheck follows the forks and
# checks each child's leaks when it exits, with one log per process. The
# programs the TLS tests run as peers or to make certificates (openssl,
# curl, sh) are not ours to check: run under memcheck they would take
# minutes.
valgrind-c: build
	rm -rf $(VALGRIND_LOGS) && mkdir -p $(VALGRIND_LOGS)
	-valgrind -q --error-exitcode=1 --leak-check=full --trace-children=yes \
	  --trace-children-skip='*/openssl,*/curl,*/sh' \
	  --log-file=$(VALGRIND_LOGS)/%p.log $(BUILD)/us_tests $(addprefix -,$(VALGRIND_SLOW_TESTS)) >$(VALGRIND_LOGS)/run.txt
	@tail -n 1 $(VALGRIND_LOGS)/run.txt
	@if find $(VALGRIND_LOGS) -name '*.log' -size +0 | grep -q .; then \
	  cat $(VALGRIND_LOGS)/*.log; echo "valgrind-c: memcheck found errors"; exit 1; fi
	@if grep -q '^FAIL' $(VALGRIND_LOGS)/run.txt; then \
	  grep '^FAIL' $(VALGRIND_LOGS)/run.txt; \
	  echo "valgrind-c: tests failed under memcheck"; exit 1; fi
	@echo "valgrind-c: clean"
