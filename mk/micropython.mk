# micropython.mk: the conformance scripts under a MicroPython binary that
# includes our module (see micropython/README.md for how to build one).
#   make test-micropython MICROPYTHON=/path/to/micropython
.PHONY: test-micropython

test-micropython:
ifeq ($(strip $(MICROPYTHON)),)
	@echo "test-micropython: skipped: MICROPYTHON is not set. It needs a MicroPython"
	@echo "  binary built with this module (micropython/README.md); run"
	@echo "  make test-micropython MICROPYTHON=/path/to/micropython"
else
	$(PYTHON) tests/conformance/run.py $(MICROPYTHON)
endif
