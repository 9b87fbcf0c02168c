"""test_usocket_address.py: the sockaddr type and the tuple address forms
(IPv4, IPv6 4-tuples, '', '<broadcast>', names, wrong family, bad ports)."""
import errno
import socket

import pytest

import usocket
from conftest import ipv6_loopback_available

needs_ipv6 = pytest.mark.skipif(not ipv6_loopback_available(),
                                reason="IPv6 loopback ::1 is not available")


def v4(host="127.0.0.1", port=8080):
    return usocket.getaddrinfo(host, port, usocket.AF_INET, usocket.SOCK_STREAM)[0][4]


def v6(host="::1", port=8080):
    return usocket.getaddrinfo(host, port, usocket.AF_INET6, usocket.SOCK_STREAM)[0][4]


# ---- the sockaddr type ------------------------------------------------------

def test_sockaddr_is_the_getaddrinfo_address_type():
    assert type(v4()) is usocket.sockaddr


def test_sockaddr_unpacks_like_a_tuple():
    host, port = v4()
    assert (host, port) == ("127.0.0.1", 8080)
    assert type(host) is str and type(port) is int
    addr = v4()
    assert len(addr) == 2 and addr[0] == "127.0.0.1" and addr[-1] == 8080
    assert tuple(addr) == ("127.0.0.1", 8080)


def test_sockaddr_compares_with_tuples_both_ways():
    addr = v4()
    assert addr == ("127.0.0.1", 8080)
    assert ("127.0.0.1", 8080) == addr
    assert not (addr != ("127.0.0.1", 8080))
    assert addr != ("127.0.0.1", 8081)
    assert addr != ("127.0.0.2", 8080)
    assert addr != ("127.0.0.1", 8080, 0, 0)
    assert addr == v4() and addr != v4(port=8081)


def test_sockaddr_hashes_like_the_tuple():
    addr = v4()
    assert hash(addr) == hash(("127.0.0.1", 8080))
    assert {("127.0.0.1", 8080): "found"}[addr] == "found"
    assert len({addr, v4(), ("127.0.0.1", 8080)}) == 1


def test_sockaddr_prints_like_the_tuple():
    assert repr(v4()) == repr(("127.0.0.1", 8080))
    assert str(v4()) == str(("127.0.0.1", 8080))


def test_sockaddr_is_immutable():
    addr = v4()
    with pytest.raises(TypeError):
        addr[0] = "10.0.0.1"
    with pytest.raises((AttributeError, TypeError)):
        addr.port = 1
    assert addr == ("127.0.0.1", 8080)


def test_sockaddr_compares_unequal_to_other_types():
    addr = v4()
    assert (addr == 5) is False and (addr != None) is True  # noqa: E711
    assert addr != "127.0.0.1" and addr != ["127.0.0.1", 8080]


def test_sockaddr_slices_like_a_tuple():
    # CPython code's idiom for either family: host, port = addr[:2]
    assert v6()[:2] == ("::1", 8080)
    assert v4()[0:1] == ("127.0.0.1",)
    assert v4()[::-1] == (8080, "127.0.0.1")


def test_sockaddr_copies_and_pickles():
    import copy
    import pickle
    for addr in (v4(), v6()):
        assert copy.copy(addr) == addr
        assert copy.deepcopy(addr) == addr
        assert pickle.loads(pickle.dumps(addr)) == addr


def test_sockaddr_ipv6_is_a_4_tuple():
    addr = v6()
    host, port, flowinfo, scopeid = addr
    assert (host, port, flowinfo, scopeid) == ("::1", 8080, 0, 0)
    assert addr == ("::1", 8080, 0, 0)
    assert hash(addr) == hash(("::1", 8080, 0, 0))
    assert repr(addr) == repr(("::1", 8080, 0, 0))
    assert addr != ("::1", 8080)


def test_sockaddr_ipv6_keeps_the_scope_id():
    addr = usocket.getaddrinfo("fe80::1%1", 80, usocket.AF_INET6)[0][4]
    assert addr == ("fe80::1", 80, 0, 1)


def test_accept_gives_a_sockaddr_equal_to_the_peer(listener, track):
    cli = track(usocket.socket())
    cli.connect(listener.getsockname())
    conn, addr = listener.accept()
    track(conn)
    assert type(addr) is usocket.sockaddr
    assert addr == cli.getsockname()
    assert addr[0] == "127.0.0.1" and addr[1] == cli.getsockname()[1]


def test_recvfrom_gives_a_sockaddr_usable_for_the_reply(udp_pair):
    a, b = udp_pair
    a.sendto(b"ping", b.getsockname())
    data, addr = b.recvfrom(100)
    assert data == b"ping"
    assert type(addr) is usocket.sockaddr
    assert addr == a.getsockname()
    b.sendto(b"pong", addr)  # the echo-server pattern: reply to what came
    assert a.recvfrom(100) == (b"pong", b.getsockname())


def test_getsockname_and_getpeername_compare_as_tuples(tcp_pair):
    cli, srv = tcp_pair
    host, port = cli.getsockname()
    assert host == "127.0.0.1" and 0 < port < 65536
    assert srv.getpeername() == (host, port)
    assert cli.getpeername() == srv.getsockname()


def test_sockaddr_is_accepted_by_connect_bind_sendto(track, listener):
    s = track(usocket.socket())
    s.bind(v4(port=0))
    s.connect(v4(port=listener.getsockname()[1]))
    conn, _ = listener.accept()
    track(conn)
    assert s.getpeername() == listener.getsockname()
    u = track(usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM))
    r = track(usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM))
    r.bind(("127.0.0.1", 0))
    dest = usocket.getaddrinfo("127.0.0.1", r.getsockname()[1], 0, usocket.SOCK_DGRAM)[0][4]
    assert u.sendto(b"abc", dest) == 3
    assert r.recv(10) == b"abc"


# ---- tuple forms ------------------------------------------------------------

def test_empty_host_binds_the_any_address(track):
    s = track(usocket.socket())
    s.bind(("", 0))
    host, port = s.getsockname()
    assert host == "0.0.0.0" and port > 0


@needs_ipv6
def test_empty_host_binds_the_ipv6_any_address(track):
    s = track(usocket.socket(usocket.AF_INET6))
    s.bind(("", 0))
    assert s.getsockname()[0] == "::"


def test_broadcast_host_is_255_255_255_255(track):
    ref = track(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    ref.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    try:  # a UDP connect sends nothing; it only needs a route
        ref.connect(("<broadcast>", 9))
    except OSError as e:
        pytest.skip(f"no route for broadcast here: {e}")
    s = track(usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM))
    s.setsockopt(usocket.SOL_SOCKET, usocket.SO_BROADCAST, 1)
    s.connect(("<broadcast>", 9))
    assert s.getpeername() == ("255.255.255.255", 9)


def test_broadcast_host_in_bind_is_an_address_not_a_name(track):
    # Whatever the OS does with a bind to 255.255.255.255 (Linux allows it
    # for UDP), usocket does the same as CPython: no resolver failure for a
    # host named "<broadcast>".
    ref = track(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    s = track(usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM))
    try:
        ref.bind(("<broadcast>", 0))
    except OSError as want:
        with pytest.raises(OSError) as got:
            s.bind(("<broadcast>", 0))
        assert got.value.errno == want.errno > 0
    else:
        s.bind(("<broadcast>", 0))
        assert s.getsockname()[0] == "255.255.255.255"


def test_domain_name_in_a_tuple_is_resolved(listener, track):
    s = track(usocket.socket())
    s.connect(("localhost", listener.getsockname()[1]))
    assert s.getpeername() == ("127.0.0.1", listener.getsockname()[1])


def test_unresolvable_name_in_a_tuple_is_negative_code(track):
    s = track(usocket.socket())
    with pytest.raises(OSError) as e:
        s.connect(("no-such-host.invalid", 80))
    assert e.value.args[0] < 0


def test_malformed_numeric_host_is_an_oserror(track):
    s = track(usocket.socket())
    with pytest.raises(OSError) as e:
        s.connect(("999.1.1.1", 80))
    assert e.value.args[0] < 0 or e.value.errno == errno.EINVAL


@needs_ipv6
def test_ipv6_4_tuple_and_2_tuple(track):
    lsn = track(usocket.socket(usocket.AF_INET6))
    lsn.bind(("::1", 0, 0, 0))
    lsn.listen(2)
    port = lsn.getsockname()[1]
    assert lsn.getsockname() == ("::1", port, 0, 0)
    a = track(usocket.socket(usocket.AF_INET6))
    a.connect(("::1", port, 0, 0))
    b = track(usocket.socket(usocket.AF_INET6))
    b.connect(("::1", port))
    for c in (a, b):
        conn, addr = lsn.accept()
        track(conn)
        assert len(addr) == 4 and addr[0] == "::1"
        assert c.getpeername() == ("::1", port, 0, 0)


@needs_ipv6
def test_ipv6_flowinfo_zero_is_accepted(track):
    s = track(usocket.socket(usocket.AF_INET6))
    s.bind(("::1", 0, 0, 0))
    assert s.getsockname()[0] == "::1"


@needs_ipv6
@pytest.mark.parametrize("flowinfo", [1, 0xFFFFF, 0x100000])
def test_ipv6_nonzero_flowinfo_is_valueerror(track, flowinfo):
    # SPEC.md section 3: flowinfo must be 0.
    s = track(usocket.socket(usocket.AF_INET6))
    with pytest.raises(ValueError):
        s.bind(("::1", 0, flowinfo, 0))


@needs_ipv6
@pytest.mark.parametrize("flowinfo", [-1, 2**32])
def test_ipv6_flowinfo_out_of_range_is_overflowerror(track, flowinfo):
    s = track(usocket.socket(usocket.AF_INET6))
    with pytest.raises(OverflowError):
        s.bind(("::1", 0, flowinfo, 0))


@needs_ipv6
@pytest.mark.parametrize("scopeid", [2**32, -1])
def test_ipv6_scopeid_out_of_range_is_refused(track, scopeid):
    s = track(usocket.socket(usocket.AF_INET6, usocket.SOCK_DGRAM))
    with pytest.raises((OverflowError, ValueError)):
        s.connect(("fe80::1", 9, 0, scopeid))


@needs_ipv6
def test_ipv4_host_on_ipv6_socket_is_eafnosupport(track):
    s = track(usocket.socket(usocket.AF_INET6))
    with pytest.raises(OSError) as e:
        s.connect(("127.0.0.1", 80))
    assert e.value.errno == errno.EAFNOSUPPORT


@pytest.mark.parametrize("method", ["connect", "bind"])
def test_ipv6_host_on_ipv4_socket_is_eafnosupport(track, method):
    s = track(usocket.socket(usocket.AF_INET))
    with pytest.raises(OSError) as e:
        getattr(s, method)(("::1", 80))
    assert e.value.errno == errno.EAFNOSUPPORT


@needs_ipv6
def test_sockaddr_of_the_other_family_is_eafnosupport(track):
    s4 = track(usocket.socket(usocket.AF_INET))
    s6 = track(usocket.socket(usocket.AF_INET6))
    u4 = track(usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM))
    for call in (lambda: s4.connect(v6()), lambda: s6.connect(v4()),
                 lambda: s4.bind(v6(port=0)), lambda: u4.sendto(b"x", v6())):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno == errno.EAFNOSUPPORT


@pytest.mark.parametrize("port", [65536, -1, 2**16 + 80, 2**64])
@pytest.mark.parametrize("method", ["connect", "bind"])
def test_port_out_of_range_is_overflowerror(track, method, port):
    s = track(usocket.socket())
    with pytest.raises(OverflowError):
        getattr(s, method)(("127.0.0.1", port))


@needs_ipv6
def test_ipv6_port_out_of_range_is_overflowerror(track):
    s = track(usocket.socket(usocket.AF_INET6))
    with pytest.raises(OverflowError):
        s.connect(("::1", 65536, 0, 0))


def test_sendto_port_out_of_range_is_overflowerror(udp_pair):
    a, _ = udp_pair
    with pytest.raises(OverflowError):
        a.sendto(b"x", ("127.0.0.1", 70000))


def test_connect_port_zero_is_einval(track):
    s = track(usocket.socket())
    with pytest.raises(OSError) as e:
        s.connect(("127.0.0.1", 0))
    assert e.value.errno == errno.EINVAL


def test_sendto_port_zero_is_einval(udp_pair):
    a, _ = udp_pair
    with pytest.raises(OSError) as e:
        a.sendto(b"x", ("127.0.0.1", 0))
    assert e.value.errno == errno.EINVAL


@pytest.mark.parametrize("addr", [
    "127.0.0.1", None, 80, ("127.0.0.1",), ("127.0.0.1", 80, 0),
    ("127.0.0.1", 80, 0, 0), (127, 80), ("127.0.0.1", "80"), ("127.0.0.1", 80.0),
    ["127.0.0.1", 80], ("127.0.0.1", None),
], ids=repr)
def test_malformed_ipv4_address_is_typeerror(track, addr):
    s = track(usocket.socket())
    with pytest.raises(TypeError):
        s.connect(addr)


@needs_ipv6
@pytest.mark.parametrize("addr", [
    ("::1",), ("::1", 80, "0", 0), ("::1", 80, 0, 0, 0), ("::1", 80, 0.0, 0), (None, 80),
], ids=repr)
def test_malformed_ipv6_address_is_typeerror(track, addr):
    s = track(usocket.socket(usocket.AF_INET6))
    with pytest.raises(TypeError):
        s.connect(addr)


def test_host_with_embedded_nul_is_refused(track):
    s = track(usocket.socket())
    with pytest.raises((ValueError, TypeError, OSError)):
        s.bind(("127.0.0.1\0junk", 0))


@pytest.mark.parametrize("addr,says", [
    (("127.0.0.1",), "not a tuple of 1 item"),
    (("127.0.0.1", 80, 0), "not a tuple of 3 items"),
    ((), "not a tuple of 0 items"),
    (["127.0.0.1", 80], "not list"),
    ("127.0.0.1:80", "not str"),
], ids=repr)
def test_malformed_ipv4_address_says_what_is_wrong(track, addr, says):
    # "must be a tuple (host, port), not tuple" left the reader guessing.
    s = track(usocket.socket())
    with pytest.raises(TypeError) as e:
        s.connect(addr)
    assert str(e.value) == "an AF_INET address must be a (host, port) tuple, " + says


@pytest.mark.parametrize("addr,says", [
    (("::1",), "not a tuple of 1 item"),
    (("::1", 80, 0, 0, 0), "not a tuple of 5 items"),
    (None, "not NoneType"),
], ids=repr)
def test_malformed_ipv6_address_says_what_is_wrong(track, addr, says):
    s = track(usocket.socket(usocket.AF_INET6))
    with pytest.raises(TypeError) as e:
        s.connect(addr)
    assert str(e.value) == ("an AF_INET6 address must be a (host, port[, "
                            "flowinfo[, scope_id]]) tuple, " + says)
