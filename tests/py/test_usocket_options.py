"""test_usocket_options.py: setsockopt/getsockopt, shutdown, getsockname,
getpeername, fileno with select/poll/selectors, and __repr__."""
import errno
import sys
import select
import selectors
import socket
import struct
import time

import pytest

import usocket

# (socket type, level, option, value) set through both modules and compared.
OPTIONS = [
    (socket.SOCK_STREAM, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1),
    (socket.SOCK_STREAM, socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
    (socket.SOCK_STREAM, socket.SOL_SOCKET, socket.SO_RCVBUF, 20000),
    (socket.SOCK_STREAM, socket.SOL_SOCKET, socket.SO_SNDBUF, 40000),
    (socket.SOCK_STREAM, socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
    (socket.SOCK_DGRAM, socket.SOL_SOCKET, socket.SO_BROADCAST, 1),
    (socket.SOCK_DGRAM, socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 5),
]


@pytest.mark.parametrize("kind,level,opt,value", OPTIONS)
def test_setsockopt_then_getsockopt_like_cpython(track, kind, level, opt, value):
    ref = track(socket.socket(socket.AF_INET, kind))
    ref.setsockopt(level, opt, value)
    s = track(usocket.socket(usocket.AF_INET, kind))
    before = s.getsockopt(level, opt)
    s.setsockopt(level, opt, value)
    got = s.getsockopt(level, opt)
    assert isinstance(got, int)
    assert got == ref.getsockopt(level, opt)
    assert got != before, "the option did not change"


def test_setsockopt_zero_clears(track):
    s = track(usocket.socket())
    s.setsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR, 1)
    s.setsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR, 0)
    assert s.getsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR) == 0


@pytest.mark.parametrize("value", [
    struct.pack("i", 1), bytearray(struct.pack("i", 1)), memoryview(struct.pack("xi", 1))[1:],
], ids=["bytes", "bytearray", "memoryview"])
def test_setsockopt_takes_bytes_like(track, value):
    s = track(usocket.socket())
    s.setsockopt(usocket.SOL_SOCKET, usocket.SO_KEEPALIVE, value)
    assert s.getsockopt(usocket.SOL_SOCKET, usocket.SO_KEEPALIVE) == 1


def test_so_linger_bytes_makes_close_reset(cpeer_pair):
    s, peer = cpeer_pair
    s.setsockopt(usocket.SOL_SOCKET, usocket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    with pytest.raises(ConnectionResetError):
        peer.recv(10)


def _membership(mod, sock, opt):
    mreq = socket.inet_aton("239.255.1.2") + socket.inet_aton("127.0.0.1")
    try:
        sock.setsockopt(mod.IPPROTO_IP, opt, mreq)
        return 0
    except OSError as e:
        return e.errno


def test_multicast_membership_like_cpython(track):
    ref = track(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    s = track(usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM))
    for opt in (socket.IP_ADD_MEMBERSHIP, socket.IP_DROP_MEMBERSHIP):
        assert _membership(usocket, s, opt) == _membership(socket, ref, opt)


@pytest.mark.parametrize("args", [
    (usocket.SOL_SOCKET, usocket.SO_REUSEADDR, None),
    (usocket.SOL_SOCKET, usocket.SO_REUSEADDR, [1]),
    (usocket.SOL_SOCKET, usocket.SO_REUSEADDR, 1.0),
    ("x", usocket.SO_REUSEADDR, 1),
    (usocket.SOL_SOCKET, "x", 1),
    (usocket.SOL_SOCKET, usocket.SO_REUSEADDR),
], ids=repr)
def test_setsockopt_wrong_types(track, args):
    s = track(usocket.socket())
    with pytest.raises(TypeError):
        s.setsockopt(*args)


def test_setsockopt_str_is_its_bytes_as_micropython(track):
    # "1" is a one-byte value, not the int 1: the system refuses it for an
    # int option, as under MicroPython's unix port.
    s = track(usocket.socket())
    with pytest.raises(OSError) as e:
        s.setsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR, "1")
    assert e.value.errno == errno.EINVAL
    one = (1).to_bytes(4, sys.byteorder).decode()
    s.setsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR, one)
    assert s.getsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR) == 1


@pytest.mark.parametrize("args", [
    ("x", usocket.SO_REUSEADDR), (usocket.SOL_SOCKET, None), (usocket.SOL_SOCKET,),
], ids=repr)
def test_getsockopt_wrong_types(track, args):
    s = track(usocket.socket())
    with pytest.raises(TypeError):
        s.getsockopt(*args)


def test_setsockopt_value_too_big_is_refused(track):
    s = track(usocket.socket())
    with pytest.raises((OverflowError, ValueError)):
        s.setsockopt(usocket.SOL_SOCKET, usocket.SO_RCVBUF, 2**40)


def test_unknown_option_is_enoprotoopt(track):
    s = track(usocket.socket())
    with pytest.raises(OSError) as e:
        s.setsockopt(usocket.SOL_SOCKET, 9999, 1)
    assert e.value.errno == errno.ENOPROTOOPT
    with pytest.raises(OSError) as e:
        s.getsockopt(usocket.SOL_SOCKET, 9999)
    assert e.value.errno == errno.ENOPROTOOPT


def test_so_error_is_zero_on_a_healthy_socket(tcp_pair):
    assert tcp_pair[0].getsockopt(usocket.SOL_SOCKET, usocket.SO_ERROR) == 0


# ---- shutdown -------------------------------------------------------------------

def test_shutdown_write_gives_peer_eof_and_still_reads(cpeer_pair):
    s, peer = cpeer_pair
    s.send(b"bye")
    s.shutdown(1)  # SHUT_WR
    assert peer.recv(10) == b"bye"
    assert peer.recv(10) == b""
    peer.sendall(b"reply")
    assert s.recv(10) == b"reply"


def test_shutdown_read_gives_own_eof(cpeer_pair):
    s, _ = cpeer_pair
    s.settimeout(1)
    s.shutdown(0)  # SHUT_RD
    assert s.recv(10) == b""


def test_shutdown_both(cpeer_pair):
    s, peer = cpeer_pair
    s.shutdown(2)  # SHUT_RDWR
    assert peer.recv(10) == b""
    with pytest.raises(OSError) as e:
        s.send(b"x")
    assert e.value.errno == errno.EPIPE


def test_shutdown_bad_how_is_einval(tcp_pair):
    with pytest.raises(OSError) as e:
        tcp_pair[0].shutdown(7)
    assert e.value.errno == errno.EINVAL


def test_shutdown_wrong_type(tcp_pair):
    with pytest.raises(TypeError):
        tcp_pair[0].shutdown("rw")


def test_shutdown_unconnected_is_enotconn(track):
    s = track(usocket.socket())
    with pytest.raises(OSError) as e:
        s.shutdown(2)
    assert e.value.errno == errno.ENOTCONN


# ---- names ----------------------------------------------------------------------

def test_getsockname_of_a_fresh_socket_is_any_zero(track):
    assert track(usocket.socket()).getsockname() == ("0.0.0.0", 0)


def test_getpeername_unconnected_is_enotconn(track):
    s = track(usocket.socket())
    with pytest.raises(OSError) as e:
        s.getpeername()
    assert e.value.errno == errno.ENOTCONN


def test_names_match_across_a_pair(tcp_pair):
    cli, srv = tcp_pair
    assert cli.getsockname() == srv.getpeername()
    assert cli.getpeername() == srv.getsockname()
    host, port = cli.getpeername()
    assert (host, port) == srv.getsockname()


def test_ipv6_names_are_4_tuples(tcp6_pair):
    cli, srv = tcp6_pair
    host, port, flowinfo, scopeid = cli.getsockname()
    assert host == "::1" and port > 0 and flowinfo == 0 and scopeid == 0
    assert srv.getpeername() == (host, port, 0, 0)


# ---- fileno -----------------------------------------------------------------------

def test_fileno_is_the_descriptor(cpeer_pair):
    s, peer = cpeer_pair
    fd = s.fileno()
    assert isinstance(fd, int) and fd >= 0
    peer.sendall(b"via fd")
    time.sleep(0.05)
    import os
    assert os.read(fd, 10) == b"via fd"


def test_fileno_works_with_select_poll_and_selectors(cpeer_pair):
    s, peer = cpeer_pair
    assert select.select([s], [], [], 0)[0] == []
    p = select.poll()
    p.register(s, select.POLLIN)
    assert p.poll(0) == []
    with selectors.DefaultSelector() as sel:
        sel.register(s, selectors.EVENT_READ, "data")
        assert sel.select(0) == []
        peer.sendall(b"!")
        events = sel.select(2)
        assert [(k.fileobj, k.data) for k, _ in events] == [(s, "data")]
    assert select.select([s], [], [], 2)[0] == [s]
    assert p.poll(2000) == [(s.fileno(), select.POLLIN)]


# ---- repr -------------------------------------------------------------------------

def test_repr_shows_the_descriptor_and_the_closed_state(track):
    s = track(usocket.socket())
    text = repr(s)
    assert isinstance(text, str)
    assert str(s.fileno()) in text
    assert text != object.__repr__(s)
    s.close()
    closed = repr(s)
    assert isinstance(closed, str) and closed != text
