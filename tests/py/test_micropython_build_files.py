"""test_micropython_build_files.py: the user C module's two build files.

MicroPython reads `micropython/micropython.mk` (make-based ports, such as
unix) or `micropython/micropython.cmake` (CMake-based ports, such as esp32
and rp2). Building a port here needs MicroPython's source, which the
project never holds, so this checks what can be checked without it: each
file is evaluated by its own tool the way a port evaluates it, and both
must name the same sources (the binding, the core and its POSIX backend,
never the test-only fault injector, nor the TLS stream, which needs an
engine: the port has its own tls module) and the same include directories.
"""
import glob
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = os.path.join(ROOT, "micropython")


def expected_sources():
    files = glob.glob(os.path.join(MODULE, "*.c"))
    files += glob.glob(os.path.join(ROOT, "src", "*.c"))
    files += glob.glob(os.path.join(ROOT, "src", "posix", "*.c"))
    files = [os.path.realpath(f) for f in files]
    return {f for f in files if os.path.basename(f) not in ("fault.c", "tls.c")}


EXPECTED_INCLUDES = {os.path.realpath(p) for p in
                     (MODULE, os.path.join(ROOT, "include"), os.path.join(ROOT, "src"))}


@pytest.mark.skipif(shutil.which("cmake") is None, reason="needs cmake")
def test_micropython_cmake_adds_the_module_to_usermod(tmp_path):
    # What a CMake port does: an INTERFACE library `usermod`, then each user
    # module's micropython.cmake included into the same project.
    (tmp_path / "CMakeLists.txt").write_text(f"""
cmake_minimum_required(VERSION 3.13)
project(port LANGUAGES NONE)
add_library(usermod INTERFACE)
include({MODULE}/micropython.cmake)
get_target_property(srcs usermod_usocket INTERFACE_SOURCES)
get_target_property(incs usermod_usocket INTERFACE_INCLUDE_DIRECTORIES)
get_target_property(links usermod INTERFACE_LINK_LIBRARIES)
file(WRITE ${{CMAKE_BINARY_DIR}}/out.txt "${{srcs}}\\n${{incs}}\\n${{links}}\\n")
""")
    r = subprocess.run(["cmake", "-S", str(tmp_path), "-B", str(tmp_path / "b")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    srcs, incs, links = (tmp_path / "b" / "out.txt").read_text().splitlines()
    assert {os.path.realpath(s) for s in srcs.split(";")} == expected_sources()
    assert {os.path.realpath(i) for i in incs.split(";")} == EXPECTED_INCLUDES
    assert links.split(";") == ["usermod_usocket"]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_micropython_mk_lists_the_same_files(tmp_path):
    # What py/mkrules does: USERMOD_DIR set to the module's directory, then
    # its micropython.mk included; the variables it adds to are printed.
    (tmp_path / "Makefile").write_text(f"""
USERMOD_DIR := {MODULE}
include {MODULE}/micropython.mk
all:
\t@echo $(SRC_USERMOD_C)
\t@echo $(SRC_USERMOD_LIB_C)
\t@echo $(CFLAGS_USERMOD)
""")
    # A make of its own, not a sub-make of `make test` (whose flags would
    # add "Entering directory" lines).
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(tmp_path)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    binding, core, flags = r.stdout.splitlines()
    srcs = binding.split() + core.split()
    assert {os.path.realpath(s) for s in srcs} == expected_sources()
    # Only the binding defines MicroPython objects, so only it is scanned
    # for qstrs; the core is plain C, compiled as a library.
    assert {os.path.realpath(s) for s in binding.split()} == \
        {os.path.realpath(f) for f in glob.glob(os.path.join(MODULE, "*.c"))}
    includes = {os.path.realpath(f[2:]) for f in flags.split() if f.startswith("-I")}
    assert includes == EXPECTED_INCLUDES
