"""test_getnameinfo.py: usocket.getnameinfo, checked against CPython's
socket.getnameinfo for what the machine answers itself (numeric forms,
localhost, service names), and, in a throw-away namespace whose DNS
server never answers the PTR query (dns_netns.py), under its timeout and
Ctrl-C."""
import errno
import socket
import time

import pytest

import usocket
from netns_util import unavailable
from timing import late

NUMERIC = usocket.NI_NUMERICHOST | usocket.NI_NUMERICSERV


def test_flags_are_the_platforms():
    for name in ("NI_NUMERICHOST", "NI_NUMERICSERV", "NI_NAMEREQD", "NI_DGRAM",
                 "NI_NOFQDN", "NI_MAXHOST", "NI_MAXSERV"):
        assert getattr(usocket, name) == getattr(socket, name), name


@pytest.mark.parametrize("sockaddr, flags", [
    (("127.0.0.1", 80), NUMERIC),
    (("127.0.0.1", 80), 0),
    (("127.0.0.1", 53), usocket.NI_DGRAM),
    (("127.0.0.1", 22), usocket.NI_NUMERICHOST),
    (("::1", 443, 0, 0), NUMERIC),
    (("::1", 443), 0),
    (("192.0.2.1", 65535), NUMERIC),
])
def test_same_answer_as_cpython(sockaddr, flags):
    assert usocket.getnameinfo(sockaddr, flags) == socket.getnameinfo(sockaddr, flags)


def test_takes_a_sockaddr_object():
    s = usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        addr = s.getsockname()
        assert usocket.getnameinfo(addr, NUMERIC) == ("127.0.0.1", str(addr[1]))
    finally:
        s.close()


def test_numeric_answer_is_at_once_even_with_a_zero_timeout():
    t0 = time.monotonic()
    for _ in range(1000):
        assert usocket.getnameinfo(("10.1.2.3", 8), NUMERIC, timeout=0) == ("10.1.2.3", "8")
    assert time.monotonic() - t0 < late(0.1)


def test_name_host_is_gaierror_as_cpython():
    with pytest.raises(OSError) as e:
        usocket.getnameinfo(("localhost", 80), 0)
    with pytest.raises(socket.gaierror) as c:
        socket.getnameinfo(("localhost", 80), 0)
    assert e.value.args[0] == c.value.args[0] < 0


def test_bad_arguments():
    with pytest.raises(TypeError):
        usocket.getnameinfo("127.0.0.1", 0)
    with pytest.raises(TypeError):
        usocket.getnameinfo(("127.0.0.1",), 0)
    with pytest.raises(TypeError):
        usocket.getnameinfo((b"127.0.0.1", 80), 0)
    with pytest.raises(TypeError):
        usocket.getnameinfo(("127.0.0.1", "80"), 0)
    with pytest.raises(TypeError):
        usocket.getnameinfo(("127.0.0.1", 80), "0")
    with pytest.raises(TypeError):
        usocket.getnameinfo(("127.0.0.1", 80))
    with pytest.raises(TypeError):
        usocket.getnameinfo(("127.0.0.1", 80), 0, nosuch=1)
    with pytest.raises(OverflowError):
        usocket.getnameinfo(("127.0.0.1", 65536), 0)
    with pytest.raises(OSError):
        usocket.getnameinfo(("127.0.0.1", 80, 0, 0), 0)  # IPv4 takes 2
    with pytest.raises(ValueError):
        usocket.getnameinfo(("127.0.0.1", 80), 0, timeout=-1)


# ---- against a resolver that never answers -------------------------------------

WHY = unavailable()
SILENT_IP = "192.0.2.99"
HOSTS = "192.0.2.77 fromhosts.test\n"
ZONE = {"99.2.0.192.in-addr.arpa": {"silent": True}}


@pytest.fixture(scope="module")
def dns():
    if WHY is not None:
        pytest.skip(WHY)
    from dns_netns import DnsNamespace

    with DnsNamespace(ZONE, HOSTS, 2) as d:
        yield d


def test_name_from_the_hosts_file(dns):
    r = dns.client("reverse", "192.0.2.77", 5, usocket.NI_NAMEREQD)
    assert r.get("names") == ["fromhosts.test", "http"], r


def test_silent_server_times_out_within_timeout(dns):
    timeout = 0.3
    r = dns.client("reverse", SILENT_IP, timeout, usocket.NI_NAMEREQD)
    assert r["error"] == "TimeoutError" and r["errno"] == errno.ETIMEDOUT, r
    assert timeout - 0.005 <= r["elapsed"] <= late(timeout + 0.05), r
    assert r["elapsed"] < 2  # far below the resolver's own limit


def test_numeric_flags_never_ask_the_silent_server(dns):
    r = dns.client("reverse", SILENT_IP, 0, NUMERIC)
    assert r.get("names") == [SILENT_IP, "80"], r


def test_ctrl_c_ends_a_reverse_lookup_without_timeout(dns):
    r = dns.client("rsigint", SILENT_IP, 0.3)
    assert r.get("interrupted") is True, r
    assert r["late"] <= late(0.1), r
