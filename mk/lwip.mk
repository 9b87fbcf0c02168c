# lwip.mk: the core on lwIP, part of make test.
#   make test-core-portable   the core (src/*.c, no backend) compiled for a
#                             Cortex-M with newlib and lwIP's headers
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

EXTRA_TESTS += test-core-portable
CLEAN += $(CROSS_BUILD)
.PHONY: test-core-portable

test-core-portable: deps-test
	@mkdir -p $(CROSS_BUILD)/core
	@set -e; for f in $(CROSS_CORE); do \
	  $(CROSS_CC) $(CROSS_CFLAGS) -MD -c $$f \
	    -o $(CROSS_BUILD)/core/$$(basename $$f .c).o; \
	done
	@! cat $(CROSS_BUILD)/core/*.d | tr ' \\' '\n\n' | grep -v '^$(LWIP_INCLUDE)/' | \
	  grep -E '/(sys/socket|sys/un|netinet/[a-z_]*|netdb|poll|arpa/inet|net/if)\.h$$'
	$(CROSS_SIZE) -t $(CROSS_BUILD)/core/*.o
