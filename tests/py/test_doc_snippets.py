"""test_doc_snippets.py: every code block of the project's documents runs
as shown.

The documents: README.md, docs/*.md, bench/README.md, fuzz/README.md and
micropython/README.md. Each fenced block (```) is sorted by its info
string, whose first word is its language:

- ```python: a complete program. It is run, as it stands, with
  /usr/bin/python3 (the interpreter running this test) and PYTHONPATH set
  to the directory of the usocket module under test, in a scratch
  directory, in its own process, with a time limit; it must exit 0.
- ```c: a complete program. It is compiled (-Wall -Wextra -Werror) against
  include/ and the libusocket.a of the same build, then run with a time
  limit and one argument: the port of a line echo server on 127.0.0.1
  that this test runs (a program that needs no peer ignores it); it must
  exit 0.
- ```sh: commands shown for the reader to type (make test, cmake, pip...).
  Never run: they install, take minutes or need root.
- A second word `fragment` (```c fragment) marks a python or c block that
  is part of a program, shown for reading; it is not run.

Any other info string, or none, fails the test: a new block has to say
which kind it is. Indented (unfenced) code is shown for reading only.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import threading

import pytest

import usocket

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = ["README.md", "bench/README.md", "fuzz/README.md", "micropython/README.md"] + sorted(
    os.path.join("docs", f) for f in os.listdir(os.path.join(REPO, "docs")) if f.endswith(".md"))
RUN = {"python", "c"}
READ_ONLY = {"sh"}
TIMEOUT = 60


def blocks(path):
    """[(line number, info string, code)] of the fenced blocks of a file."""
    out = []
    info = None
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = re.match(r"^(`{3,})(.*)$", line.rstrip("\n"))
            if info is None and m:
                info, start, code, fence = m.group(2).strip(), n, [], m.group(1)
            elif info is not None and line.rstrip("\n") == fence:
                out.append((start, info, "".join(code)))
                info = None
            elif info is not None:
                code.append(line)
    assert info is None, f"{path}: the block opened at line {start} is never closed"
    return out


ALL = [(path, n, info, code) for path in DOCS if os.path.exists(os.path.join(REPO, path))
       for n, info, code in blocks(path)]
RUNNABLE = [b for b in ALL if b[2] in RUN]


def block_id(b):
    return f"{b[0]}:{b[1]}"


def test_the_documents_have_runnable_blocks():
    # Without them this file would test nothing.
    langs = {(b[0], b[2]) for b in RUNNABLE}
    assert {("README.md", "python"), ("README.md", "c")} <= langs


@pytest.mark.parametrize("b", ALL, ids=block_id)
def test_every_block_says_what_it_is(b):
    path, n, info, _ = b
    words = info.split()
    assert words and (words[0] in READ_ONLY or (words[0] in RUN and words[1:] in ([], ["fragment"]))), \
        f"{path}:{n}: info string {info!r}: use python, c, sh, or python/c fragment"


def python_dir():
    """The folder that holds the usocket package (build/python)."""
    return os.path.dirname(os.path.abspath(usocket.__path__[0]))


def build_dir():
    return os.path.dirname(python_dir())


@pytest.fixture
def echo_port():
    """A line echo server on 127.0.0.1 (CPython's socket), for C programs."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(TIMEOUT)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(TIMEOUT)
                try:
                    with conn.makefile("rb") as f:
                        for line in f:
                            conn.sendall(line)
                except OSError:
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    try:
        srv.shutdown(socket.SHUT_RDWR)  # wakes the accept (close would not)
    except OSError:
        pass
    srv.close()
    t.join(5)


def run_python(code, tmp_path):
    (tmp_path / "snippet.py").write_text(code)
    env = dict(os.environ, PYTHONPATH=python_dir())
    return subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)


def run_c(code, tmp_path, port):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler")
    build = build_dir()
    lib = os.path.join(build, "libusocket.a")
    if not os.path.exists(lib):
        pytest.skip(f"{lib} is not built")
    sanitize = []
    cache = os.path.join(build, "CMakeCache.txt")
    if os.path.exists(cache) and "US_SANITIZE:BOOL=ON" in open(cache).read():
        sanitize = ["-fsanitize=address,undefined"]
    (tmp_path / "snippet.c").write_text(code)
    # The snippet itself must be warning-free; the link step is not given
    # -Werror, which link-time optimisation would apply to the library.
    for cmd in ([cc, "-std=gnu11", "-Wall", "-Wextra", "-Werror", *sanitize,
                 "-I", os.path.join(REPO, "include"), "-c", "snippet.c", "-o", "snippet.o"],
                [cc, *sanitize, "snippet.o", lib, "-o", "snippet"]):
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True,
                              timeout=TIMEOUT)
        if proc.returncode:
            return proc
    return subprocess.run([str(tmp_path / "snippet"), str(port)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=TIMEOUT)


@pytest.mark.parametrize("b", RUNNABLE, ids=block_id)
def test_every_block_runs(b, tmp_path, echo_port):
    path, n, info, code = b
    if info.split()[1:] == ["fragment"]:
        pytest.skip("a fragment, shown for reading")
    if info == "python":
        proc = run_python(code, tmp_path)
    else:
        proc = run_c(code, tmp_path, echo_port)
    assert proc.returncode == 0, f"{path}:{n}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
