# lwip.mk: the core on lwIP.
#   make test-core-portable   the core (src/*.c) and the lwIP backend
#                             (src/lwip/*.c) compiled for a Cortex-M with
#                             newlib and lwIP's headers (part of make test)
#   make test-lwip            the C tests on lwIP's stack in the test
#                             process (build-lwip/, Debian's liblwip;
#                             part of make test)
#   make test-binding-portable MICROPYTHON_SRC=/path/to/micropython
#                             the MicroPython binding (micropython/*.c)
#                             for the same Cortex-M, against that
#                             MicroPython tree and tests/cross/mpport's
#                             mpconfigport.h; sizes of core + lwIP
#                             backend + binding (part of make test;
#                             skipped without MICROPYTHON_SRC)
# newlib has no sys/socket.h, netinet/in.h, netdb.h or poll.h: the core
# compiles there only if every platform fact comes through the backend's
# platform.h (here src/lwip/platform.h, on lwIP's headers and the
# project's tests/cross/lwipopts.h). The objects' sizes are printed.
CROSS_CC ?= arm-none-eabi-gcc
CROSS_SIZE ?= arm-none-eabi-size
CROSS_BUILD ?= build-cross
LWIP_INCLUDE ?= /usr/include/lwip
CROSS_CFLAGS = -mcpu=cortex-m4 -mthumb -Os -std=gnu11 -ffunction-sections \
  -Wall -Wextra -Werror -DUS_BACKEND_LWIP -Iinclude -Isrc -Itests/cross \
  -I$(LWIP_INCLUDE)
# The core without the test-only fault injector and the TLS stream (its
# engine is the port's).
CROSS_CORE = $(filter-out src/fault.c src/tls.c,$(wildcard src/*.c))
CROSS_LWIP = $(wildcard src/lwip/*.c)
LWIP_BUILD ?= build-lwip

EXTRA_TESTS += test-core-portable test-lwip test-binding-portable
CLEAN += $(CROSS_BUILD) $(LWIP_BUILD)
.PHONY: test-core-portable test-lwip lwip test-binding-portable

# Each run starts empty: the sizes are of today's files only.
test-core-portable: deps-test
	@rm -rf $(CROSS_BUILD)/core $(CROSS_BUILD)/lwip
	@mkdir -p $(CROSS_BUILD)/core $(CROSS_BUILD)/lwip
	@set -e; for f in $(CROSS_CORE); do \
	  $(CROSS_CC) $(CROSS_CFLAGS) -MD -c $$f \
	    -o $(CROSS_BUILD)/core/$$(basename $$f .c).o; \
	done
	@set -e; for f in $(CROSS_LWIP); do \
	  $(CROSS_CC) $(CROSS_CFLAGS) -c $$f \
	    -o $(CROSS_BUILD)/lwip/$$(basename $$f .c).o; \
	done
	@! cat $(CROSS_BUILD)/core/*.d | tr ' \\' '\n\n' | grep -v '^$(LWIP_INCLUDE)/' | \
	  grep -E '/(sys/socket|sys/un|netinet/[a-z_]*|netdb|poll|arpa/inet|net/if)\.h$$'
	$(CROSS_SIZE) -t $(CROSS_BUILD)/core/*.o
	$(CROSS_SIZE) -t $(CROSS_BUILD)/lwip/*.o

lwip: deps-test
	cmake -S . -B $(LWIP_BUILD) -DCMAKE_BUILD_TYPE=Debug -DUS_BACKEND=lwip \
	  -DUS_PYTHON=OFF -DUS_TLS=none >/dev/null
	cmake --build $(LWIP_BUILD) -j2 --target us_tests

test-lwip: lwip
	$(LWIP_BUILD)/us_tests

# The binding needs MicroPython's generated headers (qstrs, module table,
# root pointers, version). MicroPython's own rules make them, driven by
# tests/cross/mpport/Makefile, in a directory outside the project (they
# are made from MicroPython's sources), one per checkout. MicroPython's
# headers are not -Wextra clean: they are system headers here, so the
# warnings are the binding's own.
MICROPYTHON_SRC ?=
MP_CROSS_TAG = $(shell printf %s '$(CURDIR)' | md5sum | cut -c1-8)
MICROPYTHON_GEN ?= $(MICROPYTHON_SRC)/build-usocket-cross-$(MP_CROSS_TAG)
CROSS_BINDING = $(wildcard micropython/*.c)
CROSS_MP_CFLAGS = $(CROSS_CFLAGS) -Imicropython -Itests/cross/mpport \
  -isystem $(MICROPYTHON_SRC) -isystem $(MICROPYTHON_GEN)

test-binding-portable:
ifeq ($(strip $(MICROPYTHON_SRC)),)
	@echo "test-binding-portable: skipped: MICROPYTHON_SRC is not set. It needs a"
	@echo "  MicroPython source tree; run"
	@echo "  make test-binding-portable MICROPYTHON_SRC=/path/to/micropython"
else
	$(if $(wildcard $(MICROPYTHON_SRC)/py/mkrules.mk),,$(error test-binding-portable: MICROPYTHON_SRC=$(MICROPYTHON_SRC) is not a MicroPython source tree))
	$(MAKE) test-core-portable
	$(MAKE) -C tests/cross/mpport headers \
	  MICROPYTHON_SRC=$(abspath $(MICROPYTHON_SRC)) \
	  BUILD=$(abspath $(MICROPYTHON_GEN)) USOCKET_ROOT=$(CURDIR) \
	  LWIP_INCLUDE=$(LWIP_INCLUDE) CROSS_COMPILE=$(CROSS_CC:gcc=) \
	  PYTHON=$(PYTHON)
	@rm -rf $(CROSS_BUILD)/binding
	@mkdir -p $(CROSS_BUILD)/binding
	@set -e; for f in $(CROSS_BINDING); do \
	  $(CROSS_CC) $(CROSS_MP_CFLAGS) -MD -c $$f \
	    -o $(CROSS_BUILD)/binding/$$(basename $$f .c).o; \
	done
	@! cat $(CROSS_BUILD)/binding/*.d | tr ' \\' '\n\n' | grep -v '^$(LWIP_INCLUDE)/' | \
	  grep -E '/(sys/socket|sys/un|netinet/[a-z_]*|netdb|poll|arpa/inet|net/if)\.h$$'
	$(CROSS_SIZE) -t $(CROSS_BUILD)/binding/*.o
	@echo "core + lwIP backend + binding:"
	@$(CROSS_SIZE) -t $(CROSS_BUILD)/core/*.o $(CROSS_BUILD)/lwip/*.o \
	  $(CROSS_BUILD)/binding/*.o | tail -1
endif
