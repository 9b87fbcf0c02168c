# micropython.mk: usocket as a MicroPython user C module (make-based ports).
# The port's own socket module must be off (MICROPY_PY_SOCKET=0): both
# register the module name `socket`.
#   USOCKET_BACKEND=posix   (default) the system's sockets (unix port)
#   USOCKET_BACKEND=lwip    lwIP's sockets API (LWIP_SOCKET=1); the port
#                           puts lwIP's headers and its lwipopts.h on the
#                           include path
USOCKET_MOD_DIR := $(USERMOD_DIR)
USOCKET_ROOT := $(realpath $(USOCKET_MOD_DIR)/..)
USOCKET_BACKEND ?= posix

# The binding defines the module, so only its files are scanned for qstrs.
SRC_USERMOD_C += $(addprefix $(USOCKET_MOD_DIR)/, \
	modusocket.c usocket_addr.c usocket_sock.c)

# The core and its backend: plain C, no MicroPython headers. Not the TLS
# stream (src/tls.c): it needs an engine, and the port has its own tls
# module.
SRC_USERMOD_LIB_C += $(filter-out $(USOCKET_ROOT)/src/fault.c \
	$(USOCKET_ROOT)/src/tls.c, \
	$(wildcard $(USOCKET_ROOT)/src/*.c)) \
	$(wildcard $(USOCKET_ROOT)/src/$(USOCKET_BACKEND)/*.c)

CFLAGS_USERMOD += -I$(USOCKET_MOD_DIR) -I$(USOCKET_ROOT)/include \
	-I$(USOCKET_ROOT)/src
ifeq ($(USOCKET_BACKEND),lwip)
CFLAGS_USERMOD += -DUS_BACKEND_LWIP
endif
