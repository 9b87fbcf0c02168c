# micropython.mk: usocket as a MicroPython user C module (make-based ports).
# The port's own socket module must be off (MICROPY_PY_SOCKET=0): both
# register the module name `socket`.
USOCKET_MOD_DIR := $(USERMOD_DIR)
USOCKET_ROOT := $(realpath $(USOCKET_MOD_DIR)/..)

# The binding defines the module, so only its files are scanned for qstrs.
SRC_USERMOD_C += $(addprefix $(USOCKET_MOD_DIR)/, \
	modusocket.c usocket_addr.c usocket_sock.c)

# The core and its POSIX backend: plain C, no MicroPython headers. Not
# the TLS stream (src/tls.c): it needs an engine, and the port has its
# own tls module.
SRC_USERMOD_LIB_C += $(filter-out $(USOCKET_ROOT)/src/fault.c \
	$(USOCKET_ROOT)/src/tls.c, \
	$(wildcard $(USOCKET_ROOT)/src/*.c)) \
	$(wildcard $(USOCKET_ROOT)/src/posix/*.c)

CFLAGS_USERMOD += -I$(USOCKET_MOD_DIR) -I$(USOCKET_ROOT)/include \
	-I$(USOCKET_ROOT)/src
