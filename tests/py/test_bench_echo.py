"""test_bench_echo.py: the echo-server workload of `make bench` works:
its servers echo every byte on several connections at once and end when
their connections close, and bench_load counts exactly the round trips it
was asked for. (Speed is bench/run.py's business, never a test's.)"""
import os
import select
import socket
import subprocess
import sys

import pytest
import usocket

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.path.join(REPO, "bench", "echo_server.py")
# usocket is a package: its folder sits in the build's python/ folder.
PYDIR = os.path.dirname(os.path.abspath(usocket.__path__[0]))
BUILD = os.path.dirname(PYDIR)
TIMEOUT = 60  # generous: the machine may be busy
KINDS = ["usocket", "selectors", "asyncio"]


def start(cmd):
    env = dict(os.environ, PYTHONPATH=PYDIR)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                         text=True, stdin=subprocess.DEVNULL)
    ready, _, _ = select.select([p.stdout], [], [], TIMEOUT)
    line = p.stdout.readline() if ready else ""
    if not line.startswith("port "):
        p.kill()
        p.wait()
        pytest.fail("no port line from %s: %r %s" % (cmd, line, p.stderr.read()))
    return p, int(line.split()[1])


def finish(p):
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()  # this very child, by its PID
        p.wait()
        pytest.fail("the server did not end when its connections closed")
    assert p.returncode == 0, err
    return out


def server_cmd(kind, conns):
    if kind == "c":
        return [os.path.join(BUILD, "bench", "bench_echo"), str(conns), "64"]
    if kind == "uvloop":
        pytest.importorskip("uvloop")
    return [sys.executable, SERVER, kind, str(conns), "64"]


@pytest.mark.parametrize("kind", KINDS + ["uvloop", "c"])
def test_every_byte_comes_back_on_each_connection(kind):
    cmd = server_cmd(kind, 3)
    if not os.access(cmd[0], os.X_OK):
        pytest.skip("%s is not built" % cmd[0])
    p, port = start(cmd)
    try:
        conns = [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
                 for _ in range(3)]
        for round_ in range(5):
            sent = [bytes([65 + i + round_]) * (10 + i) for i in range(3)]
            for c, msg in zip(conns, sent):
                c.sendall(msg)
            for c, msg in zip(conns, sent):
                got = b""
                while len(got) < len(msg):
                    chunk = c.recv(len(msg) - len(got))
                    assert chunk, "the server closed the connection"
                    got += chunk
                assert got == msg
        for c in conns:
            c.close()
        finish(p)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@pytest.mark.parametrize("kind", ["usocket", "c"])
def test_bench_load_counts_the_round_trips_it_was_asked_for(kind):
    load = os.path.join(BUILD, "bench", "bench_load")
    cmd = server_cmd(kind, 20)
    for path in (load, cmd[0]):
        if not os.access(path, os.X_OK):
            pytest.skip("%s is not built" % path)
    p, port = start(cmd)
    try:
        r = subprocess.run([load, str(port), "20", "64", "1000"], capture_output=True,
                           text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        words = r.stdout.split()
        assert words[0] == "result" and words[2] == "1000"
        assert float(words[1]) > 0
        finish(p)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
