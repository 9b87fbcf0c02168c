"""test_usocket_msg.py: sendmsg, recvmsg and recvmsg_into (vectored data,
SCM_RIGHTS descriptors, datagram addresses), CMSG_LEN and CMSG_SPACE,
checked against CPython's socket module where both can do the same, and
under the socket's timeout, close and signal rules."""
import array
import errno
import os
import signal
import socket
import threading
import time

import pytest

import usocket
from timing import late

FD_SIZE = array.array("i").itemsize


def unix_pair(track, kind=usocket.SOCK_STREAM, peer_module=usocket):
    """(a, b): a usocket AF_UNIX socket connected to a socket of
    peer_module, both blocking, over an abstract name."""
    name = b"\0usocket-msg-%d-%d" % (os.getpid(), time.monotonic_ns())
    if kind == usocket.SOCK_STREAM:
        lsn = track(peer_module.socket(socket.AF_UNIX, socket.SOCK_STREAM))
        lsn.bind(name)
        lsn.listen(1)
        a = track(usocket.socket(usocket.AF_UNIX, usocket.SOCK_STREAM))
        a.connect(name)
        b, _ = lsn.accept()
        lsn.close()
        return a, track(b)
    b = track(peer_module.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
    b.bind(name)
    a = track(usocket.socket(usocket.AF_UNIX, usocket.SOCK_DGRAM))
    a.bind(name + b"-a")
    a.connect(name)
    return a, b


def fds_item(fds):
    return (usocket.SOL_SOCKET, usocket.SCM_RIGHTS, array.array("i", fds).tobytes())


def fds_of(ancdata):
    fds = array.array("i")
    for level, kind, data in ancdata:
        assert (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS)
        fds.frombytes(data[: len(data) - len(data) % FD_SIZE])
    return list(fds)


# ---- constants and CMSG_LEN / CMSG_SPACE ----------------------------------------

def test_constants_are_the_platforms():
    assert usocket.SOL_SOCKET == socket.SOL_SOCKET
    assert usocket.SCM_RIGHTS == socket.SCM_RIGHTS
    assert usocket.MSG_CTRUNC == socket.MSG_CTRUNC
    assert usocket.MSG_TRUNC == socket.MSG_TRUNC


@pytest.mark.parametrize("n", [0, 1, 4, 7, 8, 12, 100, 4096])
def test_cmsg_len_and_space_match_cpython(n):
    assert usocket.CMSG_LEN(n) == socket.CMSG_LEN(n)
    assert usocket.CMSG_SPACE(n) == socket.CMSG_SPACE(n)


def test_cmsg_len_bad_arguments():
    with pytest.raises(OverflowError):
        usocket.CMSG_LEN(-1)
    with pytest.raises(OverflowError):
        usocket.CMSG_SPACE(1 << 40)
    with pytest.raises(TypeError):
        usocket.CMSG_LEN("4")


# ---- data ------------------------------------------------------------------------

def test_sendmsg_gathers_the_buffers_in_order(tcp_pair):
    cli, srv = tcp_pair
    n = cli.sendmsg([b"ab", bytearray(b"cd"), memoryview(b"xefx")[1:3], b""])
    assert n == 6
    srv.settimeout(5)
    assert srv.recv(100) == b"abcdef"


def test_recvmsg_on_a_stream(tcp_pair):
    cli, srv = tcp_pair
    cli.sendall(b"hello")
    srv.settimeout(5)
    data, anc, flags, addr = srv.recvmsg(100)
    assert (data, anc, flags, addr) == (b"hello", [], 0, None)


def test_recvmsg_into_scatters_over_the_buffers(tcp_pair):
    cli, srv = tcp_pair
    cli.sendall(b"0123456789")
    srv.settimeout(5)
    time.sleep(0.05)
    a, b = bytearray(3), bytearray(10)
    n, anc, flags, addr = srv.recvmsg_into([a, memoryview(b)[2:6]])
    assert (n, anc, flags, addr) == (7, [], 0, None)
    assert a == b"012" and b[2:6] == b"3456"
    assert srv.recv(10) == b"789"


def test_recvmsg_at_eof_is_empty(tcp_pair):
    cli, srv = tcp_pair
    cli.shutdown(usocket.SHUT_WR)
    srv.settimeout(5)
    assert srv.recvmsg(10) == (b"", [], 0, None)


def test_blocking_sendmsg_sends_everything_across_pieces(cpeer_pair):
    """Under CPython a blocking stream sendmsg sends all, as the kernel's
    own would: a partial send resumes inside the piece it stopped in."""
    s, peer = cpeer_pair
    pieces = [os.urandom(n) for n in (1, 70000, 3, 1 << 20, 0, 999999, 5)] * 3
    want = b"".join(pieces)
    got = bytearray()

    def reader():
        while len(got) < len(want):
            chunk = peer.recv(65536)
            if not chunk:
                return
            got.extend(chunk)
            time.sleep(0.0005)  # slow: the sender's buffer fills up

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    assert s.sendmsg(pieces) == len(want)
    t.join(15)
    assert bytes(got) == want


def test_udp_sendmsg_to_an_address_and_recvmsg_gives_the_sender(udp_pair):
    a, b = udp_pair
    assert a.sendmsg([b"da", b"ta"], [], 0, b.getsockname()) == 4
    b.settimeout(5)
    data, anc, flags, addr = b.recvmsg(100)
    assert (data, anc, flags) == (b"data", [], 0)
    assert addr == a.getsockname()


def test_udp_recvmsg_of_a_longer_datagram_says_msg_trunc(udp_pair):
    a, b = udp_pair
    a.sendto(b"0123456789", b.getsockname())
    b.settimeout(5)
    data, anc, flags, addr = b.recvmsg(4)
    assert data == b"0123"
    assert flags & usocket.MSG_TRUNC


def test_sendmsg_address_is_converted_as_sendto_does(udp_pair):
    a, b = udp_pair
    with pytest.raises(TypeError):
        a.sendmsg([b"x"], [], 0, "not an address")


def test_unix_datagram_sender_as_cpython_gives_it(track):
    name = b"\0usocket-msg-dgram-%d" % os.getpid()
    for module in (usocket, socket):
        rx = track(module.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
        rx.bind(name)
        rx.settimeout(5)
        unbound = track(module.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
        unbound.sendto(b"u", name)
        bound = track(module.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
        bound.bind(name + b"-tx")
        bound.sendto(b"b", name)
        assert rx.recvmsg(8) == (b"u", [], 0, None), module
        assert rx.recvmsg(8) == (b"b", [], 0, name + b"-tx"), module
        for s in (rx, unbound, bound):
            s.close()


# ---- descriptors (SCM_RIGHTS) ---------------------------------------------------------

def test_scm_rights_between_usockets(track):
    a, b = unix_pair(track)
    r, w = os.pipe()
    try:
        assert a.sendmsg([b"F"], [fds_item([w])]) == 1
        b.settimeout(5)
        data, anc, flags, addr = b.recvmsg(10, usocket.CMSG_SPACE(FD_SIZE))
        assert data == b"F" and flags == 0
        [got] = fds_of(anc)
        assert got not in (r, w)
        os.write(got, b"through the received descriptor")
        os.close(got)
        assert os.read(r, 100) == b"through the received descriptor"
    finally:
        os.close(r)
        os.close(w)


def test_scm_rights_interoperates_with_cpython(track):
    a, b = unix_pair(track, peer_module=socket)
    r, w = os.pipe()
    try:
        a.sendmsg([b"1"], [fds_item([w])])
        b.settimeout(5)
        msg, fds, flags, _ = socket.recv_fds(b, 10, 1)
        assert msg == b"1" and len(fds) == 1
        os.close(fds[0])
        socket.send_fds(b, [b"2"], [r])
        a.settimeout(5)
        data, anc, flags, addr = a.recvmsg(10, socket.CMSG_SPACE(FD_SIZE))
        assert data == b"2"
        [got] = fds_of(anc)
        os.write(w, b"z")
        assert os.read(got, 1) == b"z"
        os.close(got)
    finally:
        os.close(r)
        os.close(w)


def test_received_descriptors_are_close_on_exec(track):
    a, b = unix_pair(track)
    r, w = os.pipe()
    try:
        a.sendmsg([b"F"], [fds_item([w])])
        b.settimeout(5)
        _, anc, _, _ = b.recvmsg(10, usocket.CMSG_SPACE(FD_SIZE))
        [got] = fds_of(anc)
        assert not os.get_inheritable(got)
        os.close(got)
    finally:
        os.close(r)
        os.close(w)


def test_too_small_ancillary_buffer_leaks_no_descriptor(track, open_fds):
    a, b = unix_pair(track)
    r, w = os.pipe()
    try:
        before = open_fds()
        a.sendmsg([b"F"], [fds_item([w, w, w])])
        b.settimeout(5)
        data, anc, flags, _ = b.recvmsg(10, usocket.CMSG_LEN(FD_SIZE))
        assert data == b"F"
        assert flags & usocket.MSG_CTRUNC
        got = fds_of(anc)
        assert len(got) <= 1
        for fd in got:
            os.close(fd)
        assert open_fds() == before
    finally:
        os.close(r)
        os.close(w)


def test_descriptors_without_room_are_not_leaked(track, open_fds):
    a, b = unix_pair(track)
    r, w = os.pipe()
    try:
        before = open_fds()
        a.sendmsg([b"F"], [fds_item([w, r])])
        b.settimeout(5)
        data, anc, flags, _ = b.recvmsg(10)  # no ancillary room at all
        assert (data, anc) == (b"F", [])
        assert flags & usocket.MSG_CTRUNC
        assert open_fds() == before
    finally:
        os.close(r)
        os.close(w)


# ---- timeouts, non-blocking, closed sockets, signals ----------------------------

def test_recvmsg_timeout_is_timeouterror(tcp_pair):
    _, srv = tcp_pair
    srv.settimeout(0.2)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        srv.recvmsg(10)
    assert e.value.errno == errno.ETIMEDOUT
    assert 0.18 <= time.monotonic() - t0 < late(0.2)


def test_recvmsg_into_nonblocking_is_blockingioerror(tcp_pair):
    _, srv = tcp_pair
    srv.setblocking(False)
    with pytest.raises(BlockingIOError):
        srv.recvmsg_into([bytearray(4)])


def test_sendmsg_timeout_is_one_deadline_for_the_whole_call(cpeer_pair):
    s, peer = cpeer_pair
    s.settimeout(0.2)
    big = [b"x" * (8 << 20)] * 8
    t0 = time.monotonic()
    try:
        n = s.sendmsg(big)
    except TimeoutError:
        n = None
    elapsed = time.monotonic() - t0
    # A timed send is one send: what fits, or TimeoutError if nothing did.
    assert n is None or 0 < n < sum(map(len, big))
    assert elapsed < late(0.2)


@pytest.mark.parametrize("call", [
    lambda s: s.sendmsg([b"x"]),
    lambda s: s.recvmsg(10),
    lambda s: s.recvmsg_into([bytearray(4)]),
])
def test_closed_socket_is_ebadf(us, call):
    s = us.socket(us.AF_INET, us.SOCK_STREAM)
    s.close()
    with pytest.raises(OSError) as e:
        call(s)
    assert e.value.errno == errno.EBADF


def test_close_from_another_thread_ends_a_blocked_recvmsg(tcp_pair, later):
    _, srv = tcp_pair
    later(0.2, srv.close)
    t0 = time.monotonic()
    with pytest.raises(OSError) as e:
        srv.recvmsg(10)
    assert e.value.errno == errno.EBADF
    assert time.monotonic() - t0 < late(0.2)


def test_signal_handler_error_ends_a_blocked_recvmsg(tcp_pair):
    _, srv = tcp_pair

    class Stop(Exception):
        pass

    def handler(signum, frame):
        raise Stop()

    old = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(Stop):
            srv.recvmsg(10)
        assert time.monotonic() - t0 < late(0.2)
    finally:
        timer.cancel()
        timer.join(5)
        signal.signal(signal.SIGUSR1, old)


def test_signal_handler_error_ends_a_blocked_sendmsg(cpeer_pair):
    """A blocking stream sendmsg sends everything, but a signal handler's
    exception ends it, as it ends sendall."""
    s, _ = cpeer_pair  # the peer never reads

    class Stop(Exception):
        pass

    def handler(signum, frame):
        raise Stop()

    big = [memoryview(b"x" * (8 << 20))] * 8
    old = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(Stop):
            s.sendmsg(big)
        assert time.monotonic() - t0 < late(0.3)
    finally:
        timer.cancel()
        timer.join(5)
        signal.signal(signal.SIGUSR1, old)


# ---- bad arguments ---------------------------------------------------------------

def test_bad_arguments(tcp_pair):
    cli, srv = tcp_pair
    with pytest.raises(TypeError):
        cli.sendmsg(42)
    with pytest.raises(TypeError):
        cli.sendmsg(["text is not bytes"])
    with pytest.raises(TypeError):
        cli.sendmsg([b"x"], [(1, 2)])
    with pytest.raises(TypeError):
        cli.sendmsg([b"x"], [("1", 2, b"")])
    with pytest.raises(TypeError):
        cli.sendmsg([b"x"], [], "0")
    with pytest.raises(TypeError):
        cli.sendmsg()
    with pytest.raises(ValueError):
        srv.recvmsg(-1)
    with pytest.raises(ValueError):
        srv.recvmsg(10, -1)
    with pytest.raises(TypeError):
        srv.recvmsg("10")
    with pytest.raises(TypeError):
        srv.recvmsg_into([b"read-only"])
    with pytest.raises(TypeError):
        srv.recvmsg_into(5)
    with pytest.raises(OSError) as e:
        cli.sendmsg([b"x"] * (usocket_iov_max() + 1))
    assert e.value.errno == errno.EMSGSIZE


def usocket_iov_max():
    return 1024
