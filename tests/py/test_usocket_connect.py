"""test_usocket_connect.py: bind, listen (backlog), accept (timeout
inheritance) and connect (refused, timed, non-blocking)."""
import errno
import select
import socket
import time

import pytest

import usocket
from timing import late


def count_queued_connections(addr, limit):
    """Connects CPython clients to addr until one is not completed within
    0.2 s (the kernel drops SYNs once the accept queue is full); returns how
    many completed, and the sockets (for the caller to close)."""
    addr = tuple(addr)  # CPython's connect takes tuples only
    socks = []
    for _ in range(limit):
        c = socket.socket()
        socks.append(c)
        c.settimeout(0.2)
        try:
            c.connect(addr)
        except (TimeoutError, OSError):
            return len(socks) - 1, socks
    return limit, socks


# ---- bind ---------------------------------------------------------------------

def test_bind_picks_a_port_and_getsockname_reports_it(track):
    s = track(usocket.socket())
    s.bind(("127.0.0.1", 0))
    host, port = s.getsockname()
    assert host == "127.0.0.1" and 1024 <= port <= 65535


def test_bind_a_given_port(track):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    s = track(usocket.socket())
    s.bind(("127.0.0.1", port))
    assert s.getsockname() == ("127.0.0.1", port)


def test_bind_twice_is_the_os_error(track):
    s = track(usocket.socket())
    s.bind(("127.0.0.1", 0))
    with pytest.raises(OSError) as e:
        s.bind(("127.0.0.1", 0))
    assert e.value.errno == errno.EINVAL


def test_bind_port_in_use_is_eaddrinuse(listener, track):
    s = track(usocket.socket())
    with pytest.raises(OSError) as e:
        s.bind(listener.getsockname())
    assert e.value.errno == errno.EADDRINUSE


def test_bind_non_local_address_is_eaddrnotavail(track):
    s = track(usocket.socket())
    with pytest.raises(OSError) as e:
        s.bind(("192.0.2.254", 0))  # TEST-NET-1: never ours
    assert e.value.errno == errno.EADDRNOTAVAIL


# ---- listen -------------------------------------------------------------------

def test_listen_default_backlog_is_128(track):
    lsn = track(usocket.socket())
    lsn.bind(("127.0.0.1", 0))
    lsn.listen()
    n, socks = count_queued_connections(lsn.getsockname(), 140)
    for c in socks:
        c.close()
    assert n == 129  # Linux queues backlog + 1


@pytest.mark.parametrize("backlog,queued", [(3, 4), (0, 1), (-5, 1)])
def test_listen_backlog_and_negative_as_zero(track, backlog, queued):
    lsn = track(usocket.socket())
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(backlog)
    n, socks = count_queued_connections(lsn.getsockname(), 10)
    for c in socks:
        c.close()
    assert n == queued


@pytest.mark.parametrize("arg", ["x", 1.5, None])
def test_listen_wrong_type(track, arg):
    lsn = track(usocket.socket())
    lsn.bind(("127.0.0.1", 0))
    with pytest.raises(TypeError):
        lsn.listen(arg)


def test_listen_on_udp_is_eopnotsupp(udp_pair):
    with pytest.raises(OSError) as e:
        udp_pair[0].listen(1)
    assert e.value.errno == errno.EOPNOTSUPP


# ---- accept -------------------------------------------------------------------

def test_accept_returns_a_connected_socket_and_address(listener, track):
    cli = track(usocket.socket())
    cli.connect(listener.getsockname())
    pair = listener.accept()
    assert isinstance(pair, tuple) and len(pair) == 2
    conn, addr = pair
    track(conn)
    assert isinstance(conn, usocket.socket)
    assert addr == cli.getsockname()
    conn.settimeout(2)
    cli.send(b"hello")
    assert conn.recv(10) == b"hello"


def test_accept_on_a_non_listening_socket_is_einval(track):
    s = track(usocket.socket())
    s.bind(("127.0.0.1", 0))
    with pytest.raises(OSError) as e:
        s.accept()
    assert e.value.errno == errno.EINVAL


def test_accept_timeout_is_timeouterror(listener):
    listener.settimeout(0.2)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        listener.accept()
    elapsed = time.monotonic() - t0
    assert e.value.errno == errno.ETIMEDOUT
    assert 0.18 <= elapsed < late(0.2)


def test_accepted_socket_inherits_the_timeout(listener, track):
    listener.settimeout(0.3)
    cli = track(usocket.socket())
    cli.connect(listener.getsockname())
    conn, _ = listener.accept()
    track(conn)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        conn.recv(1)
    assert 0.28 <= time.monotonic() - t0 < late(0.3)


def test_accepted_socket_inherits_non_blocking(listener, track):
    listener.setblocking(False)
    with pytest.raises(BlockingIOError) as e:
        listener.accept()
    assert e.value.errno in (errno.EAGAIN, errno.EWOULDBLOCK)
    cli = track(usocket.socket())
    cli.connect(listener.getsockname())
    assert select.select([listener], [], [], 2)[0] == [listener]
    conn, _ = listener.accept()
    track(conn)
    with pytest.raises(BlockingIOError):
        conn.recv(1)


def test_accepted_socket_of_blocking_listener_blocks(listener, track, later):
    cli = track(usocket.socket())
    cli.connect(listener.getsockname())
    conn, _ = listener.accept()
    track(conn)
    later(0.3, cli.send, b"late")
    t0 = time.monotonic()
    assert conn.recv(10) == b"late"
    assert time.monotonic() - t0 >= 0.25


# ---- connect ------------------------------------------------------------------

@pytest.fixture
def refusing_addr(track):
    """An address that refuses: bound, not listening (no port-reuse race)."""
    s = track(socket.socket())
    s.bind(("127.0.0.1", 0))
    return s.getsockname()


def test_connect_refused_is_connectionrefusederror(track, refusing_addr):
    s = track(usocket.socket())
    with pytest.raises(ConnectionRefusedError) as e:
        s.connect(refusing_addr)
    assert e.value.errno == errno.ECONNREFUSED


def test_connect_refused_with_a_timeout_is_still_refused(track, refusing_addr):
    s = track(usocket.socket())
    s.settimeout(2)
    t0 = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        s.connect(refusing_addr)
    assert time.monotonic() - t0 < late(0)


def test_connect_timeout_is_timeouterror(track, full_listener):
    addr, _ = full_listener
    s = track(usocket.socket())
    s.settimeout(0.3)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        s.connect(addr)
    elapsed = time.monotonic() - t0
    assert e.value.errno == errno.ETIMEDOUT
    assert isinstance(e.value, OSError)
    assert 0.28 <= elapsed < late(0.3)


def test_connect_non_blocking_is_einprogress_then_completes(listener, track):
    s = track(usocket.socket())
    s.setblocking(False)
    with pytest.raises(OSError) as e:
        s.connect(listener.getsockname())
    assert e.value.errno == errno.EINPROGRESS
    assert select.select([], [s], [], 2)[1] == [s]
    assert s.getsockopt(usocket.SOL_SOCKET, usocket.SO_ERROR) == 0
    assert s.getpeername() == listener.getsockname()


def test_connect_twice_is_eisconn(tcp_pair):
    cli, srv = tcp_pair
    with pytest.raises(OSError) as e:
        cli.connect(srv.getsockname())
    assert e.value.errno == errno.EISCONN


def test_connect_with_a_getaddrinfo_address(listener, track):
    s = track(usocket.socket())
    s.connect(usocket.getaddrinfo("127.0.0.1", listener.getsockname()[1])[0][-1])
    conn, addr = listener.accept()
    track(conn)
    assert addr == s.getsockname()


def test_ipv6_pair_exchanges_data(tcp6_pair):
    cli, srv = tcp6_pair
    srv.settimeout(2)
    cli.sendall(b"over ::1")
    assert srv.read(8) == b"over ::1"
    assert srv.getpeername() == cli.getsockname()
    assert len(cli.getsockname()) == 4
