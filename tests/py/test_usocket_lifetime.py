"""test_usocket_lifetime.py: close, EBADF after close, the context manager,
garbage collection (ResourceWarning) and descriptor leaks."""
import errno
import gc
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

import usocket
from timing import late

ADDR9 = ("127.0.0.1", 9)

CLOSED_OPS = {
    "bind": lambda s: s.bind(("127.0.0.1", 0)),
    "listen": lambda s: s.listen(1),
    "accept": lambda s: s.accept(),
    "connect": lambda s: s.connect(ADDR9),
    "send": lambda s: s.send(b"x"),
    "sendall": lambda s: s.sendall(b"x"),
    "recv": lambda s: s.recv(1),
    "sendto": lambda s: s.sendto(b"x", ADDR9),
    "recvfrom": lambda s: s.recvfrom(1),
    "setsockopt": lambda s: s.setsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR, 1),
    "getsockopt": lambda s: s.getsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR),
    "read": lambda s: s.read(1),
    "read-all": lambda s: s.read(),
    "readinto": lambda s: s.readinto(bytearray(1)),
    "readline": lambda s: s.readline(),
    "write": lambda s: s.write(b"x"),
    "shutdown": lambda s: s.shutdown(2),
    "getsockname": lambda s: s.getsockname(),
    "getpeername": lambda s: s.getpeername(),
}


@pytest.mark.parametrize("op", sorted(CLOSED_OPS))
def test_operation_on_closed_socket_is_ebadf(tcp_pair, op):
    cli, _ = tcp_pair
    cli.close()
    with pytest.raises(OSError) as e:
        CLOSED_OPS[op](cli)
    assert e.value.errno == errno.EBADF


@pytest.mark.parametrize("op", ["bind", "connect", "sendto", "recvfrom", "listen"])
def test_operation_on_closed_fresh_socket_is_ebadf(op):
    kind = usocket.SOCK_DGRAM if op in ("sendto", "recvfrom") else usocket.SOCK_STREAM
    s = usocket.socket(usocket.AF_INET, kind)
    s.close()
    with pytest.raises(OSError) as e:
        CLOSED_OPS[op](s)
    assert e.value.errno == errno.EBADF


@pytest.mark.parametrize("name", ["close", "accept", "fileno", "getsockname",
                                  "getpeername", "__enter__"])
def test_methods_without_arguments_refuse_one(track, name):
    s = track(usocket.socket())
    with pytest.raises(TypeError):
        getattr(s, name)(1)


def test_close_is_idempotent(track):
    s = track(usocket.socket())
    s.close()
    s.close()
    s.close()


def test_close_releases_the_descriptor():
    s = usocket.socket()
    fd = s.fileno()
    os.fstat(fd)  # open now
    s.close()
    with pytest.raises(OSError) as e:
        os.fstat(fd)
    assert e.value.errno == errno.EBADF


def test_fileno_after_close_is_not_the_old_descriptor():
    s = usocket.socket()
    fd = s.fileno()
    assert isinstance(fd, int) and fd >= 0
    s.close()
    try:
        after = s.fileno()
    except OSError as e:
        assert e.errno == errno.EBADF
    else:
        assert after == -1


def test_peer_sees_eof_after_close(tcp_pair):
    cli, srv = tcp_pair
    srv.settimeout(2)
    cli.send(b"last")
    cli.close()
    assert srv.recv(10) == b"last"
    assert srv.recv(10) == b""


def test_close_of_accepted_socket_gives_client_eof(tcp_pair):
    cli, srv = tcp_pair
    cli.settimeout(2)
    srv.close()
    assert cli.recv(10) == b""


def test_context_manager_returns_the_socket_and_closes_it():
    with usocket.socket() as s:
        assert isinstance(s, usocket.socket)
        fd = s.fileno()
        os.fstat(fd)
    with pytest.raises(OSError) as e:
        s.getsockname()
    assert e.value.errno == errno.EBADF


def test_context_manager_closes_on_exception_and_does_not_swallow_it():
    with pytest.raises(ZeroDivisionError):
        with usocket.socket() as s:
            1 / 0
    with pytest.raises(OSError) as e:
        s.getsockname()
    assert e.value.errno == errno.EBADF


def _make_and_drop(factory):
    """Builds a socket, returns its fd; the socket is dropped unclosed."""
    s = factory()
    return s.fileno()


def _collect_warnings(fn):
    gc.collect()  # earlier tests' garbage warns outside this window
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
        gc.collect()
    return result, [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_garbage_collected_open_socket_is_closed_with_resourcewarning():
    fd, caught = _collect_warnings(lambda: _make_and_drop(usocket.socket))
    assert len(caught) == 1
    with pytest.raises(OSError) as e:
        os.fstat(fd)
    assert e.value.errno == errno.EBADF


def test_garbage_collected_accepted_socket_warns_too(listener, track):
    cli = track(usocket.socket())
    cli.connect(listener.getsockname())
    cli.settimeout(2)
    fd, caught = _collect_warnings(lambda: _make_and_drop(lambda: listener.accept()[0]))
    assert len(caught) == 1
    assert cli.recv(1) == b""  # the accepted end really was closed


def test_socket_subclass_in_a_reference_cycle_is_collected_and_closed():
    class Sub(usocket.socket):
        pass

    def make():
        s = Sub()
        s.myself = s  # a cycle: only the cyclic GC can free it
        return s.fileno()

    fd, caught = _collect_warnings(make)
    assert len(caught) == 1
    with pytest.raises(OSError):
        os.fstat(fd)


def test_garbage_collected_closed_socket_does_not_warn():
    def make():
        s = usocket.socket()
        s.close()
    _, caught = _collect_warnings(make)
    assert caught == []


def test_ten_thousand_connect_close_cycles_leak_no_descriptor(listener, open_fds):
    addr = listener.getsockname()
    before = open_fds()
    for _ in range(10000):
        c = usocket.socket()
        c.connect(addr)
        conn, _ = listener.accept()
        conn.close()
        c.close()
    gc.collect()
    assert open_fds() == before


def test_failing_calls_leak_no_descriptor(open_fds, track):
    closed_port = track(usocket.socket())
    closed_port.bind(("127.0.0.1", 0))  # bound, not listening: refuses
    addr = closed_port.getsockname()
    with pytest.raises(OSError):  # warm the resolver up before counting
        usocket.getaddrinfo("no-such-host.invalid", 80)
    before = open_fds()
    for i in range(300):
        with pytest.raises(OSError):
            usocket.socket(12345)
        if i % 100 == 0:
            with pytest.raises(OSError):
                usocket.getaddrinfo("no-such-host.invalid", 80)
        c = usocket.socket()
        with pytest.raises(ConnectionRefusedError):
            c.connect(addr)
        c.close()
    gc.collect()
    assert open_fds() == before


@pytest.mark.parametrize("timeout, blocks", [(None, True), (0, False), (2.5, False)])
def test_detach_hands_the_descriptor_back_in_the_mode_of_the_timeout(
        tcp_pair, timeout, blocks):
    client, server = tcp_pair
    client.settimeout(1.0)  # a change of mode on the way must not stick
    client.settimeout(timeout)
    fd = client.detach()
    try:
        assert os.get_blocking(fd) is blocks
        server.send(b"x")
        assert os.read(fd, 1) == b"x"  # the connection is intact
    finally:
        os.close(fd)


def test_descriptor_is_nonblocking_while_usocket_owns_it(tcp_pair):
    client, server = tcp_pair
    # A blocking socket waits in usocket's own calls, never in the kernel's.
    assert client.gettimeout() is None
    assert not os.get_blocking(client.fileno())
    assert not os.get_blocking(server.fileno())
    with pytest.raises(BlockingIOError):
        os.read(client.fileno(), 1)
    server.send(b"y")
    assert client.recv(1) == b"y"


# A child of its own: a call stuck in the kernel may hold the interpreter's
# lock, and would hang the suite with it.
SHARED_MODE_CHILD = textwrap.dedent("""
    import os, socket, sys, time, usocket
    lst = usocket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    c = usocket.socket()
    c.connect(lst.getsockname())
    srv, _ = lst.accept()
    # Another holder of the same open descriptor (a dup, a forked child),
    # which wants it blocking: the mode is the description's, shared.
    other = socket.socket(fileno=os.dup(c.fileno()))
    other.setblocking(True)
    c.settimeout(float(sys.argv[2]))
    data = b"x" * (64 << 20)  # made before the clock starts: it takes a while
    t0 = time.monotonic()
    try:
        if sys.argv[1] == "recv":
            c.recv(1)
        else:
            c.sendall(data)  # the peer never reads
        print("returned")
    except OSError as e:
        print(type(e).__name__, "%.3f" % (time.monotonic() - t0))
""")


@pytest.mark.parametrize("op, timeout, error", [
    ("recv", 0.3, "TimeoutError"), ("sendall", 0.3, "TimeoutError"),
    ("recv", 0, "BlockingIOError"), ("sendall", 0, "BlockingIOError")])
def test_call_keeps_its_timeout_when_another_holder_blocks_the_descriptor(
        op, timeout, error):
    try:
        r = subprocess.run([sys.executable, "-c", SHARED_MODE_CHILD, op, str(timeout)],
                           capture_output=True, text=True, timeout=late(timeout) + 10)
    except subprocess.TimeoutExpired:
        pytest.fail("%s with a %s s timeout hung in the kernel" % (op, timeout))
    assert r.returncode == 0, r.stderr
    name, *rest = r.stdout.split()
    assert name == error, r.stdout
    assert timeout - 0.01 <= float(rest[0]) <= late(timeout)
