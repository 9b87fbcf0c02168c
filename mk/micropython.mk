# micropython.mk: the conformance scripts, then the client programs of
# tests/apps against a real MQTT broker and HTTP server, under a MicroPython
# binary that includes our module (micropython/README.md builds one).
#   make test-micropython MICROPYTHON=/path/to/micropython
.PHONY: test-micropython

# Expanded only with the recipe: a path (taken from here) or a name on PATH
# that is an executable file, else empty.
MICROPYTHON_FOUND = $(shell $(PYTHON) -c 'import shutil, sys; print(shutil.which(sys.argv[1]) or "")' '$(MICROPYTHON)')

test-micropython:
ifeq ($(strip $(MICROPYTHON)),)
	@echo "test-micropython: skipped: MICROPYTHON is not set. It needs a MicroPython"
	@echo "  binary built with this module (micropython/README.md); run"
	@echo "  make test-micropython MICROPYTHON=/path/to/micropython"
else
	$(if $(MICROPYTHON_FOUND),,$(error test-micropython: MICROPYTHON=$(MICROPYTHON) is not an executable program; build one as micropython/README.md says))
	$(PYTHON) tests/conformance/run.py $(MICROPYTHON)
	MICROPYTHON="$(MICROPYTHON_FOUND)" $(PYTHON) -m pytest -q -rs -p no:cacheprovider \
	  tests/py/test_apps.py -k micropython
endif
