"""test_usocket_module.py: module functions (socket, getaddrinfo, inet_ntop,
inet_pton), the constants, and the names SPEC.md promises."""
import ctypes
import errno
import os
import re
import socket
import threading

import pytest

import usocket

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC_PATH = os.path.join(os.path.dirname(REPO), "shared", "SPEC.md")

# The same names as SPEC.md sections 2, 4 and 5, for when SPEC.md is absent.
FALLBACK_FUNCTIONS = ["socket", "getaddrinfo", "inet_ntop", "inet_pton"]
FALLBACK_CONSTANTS = [
    "AF_INET", "AF_INET6", "SOCK_STREAM", "SOCK_DGRAM", "IPPROTO_IP",
    "IPPROTO_TCP", "IPPROTO_UDP", "IPPROTO_IPV6", "SOL_SOCKET",
    "SO_REUSEADDR", "SO_KEEPALIVE", "SO_BROADCAST", "SO_ERROR", "SO_LINGER",
    "SO_RCVBUF", "SO_SNDBUF", "TCP_NODELAY", "IP_ADD_MEMBERSHIP",
    "IP_DROP_MEMBERSHIP", "IP_MULTICAST_TTL", "MSG_PEEK", "MSG_DONTWAIT",
]
FALLBACK_OPTIONAL = ["SOCK_RAW", "SO_REUSEPORT"]
FALLBACK_METHODS = [
    "close", "bind", "listen", "accept", "connect", "send", "sendall", "recv",
    "sendto", "recvfrom", "setsockopt", "settimeout", "setblocking",
    "makefile", "read", "readinto", "readline", "write", "fileno",
    "getsockopt", "shutdown", "getsockname", "getpeername", "with",
    "__repr__",
]


def spec_sections(text):
    """{number: body} for the '## N. title' sections of SPEC.md."""
    parts = re.split(r"^## (\d+)\.[^\n]*\n", text, flags=re.M)
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts), 2)}


def first_column_names(body):
    """Identifiers opening the backticked spans of a table's first column."""
    names = []
    for line in body.splitlines():
        if not line.startswith("|") or set(line) <= set("|- "):
            continue
        cell = line.split("|")[1]
        for span in re.findall(r"`([^`]+)`", cell):
            m = re.match(r"[A-Za-z_]\w*", span)
            if m:
                names.append(m.group(0))
    return names


def constant_names(body):
    """(required, optional) constants of section 4: names followed by 'where'
    (before the next ',' or ')') are optional; a sentence that puts a name off
    to 'a later issue' does not count."""
    required, optional = [], []
    body = " ".join(body.split())
    for m in re.finditer(r"`([A-Z][A-Z0-9_]*[A-Z0-9])`", body):
        name = m.group(1)
        start = body.rfind(".", 0, m.start()) + 1
        end = body.find(".", m.end())
        if "later issue" in body[start:end]:
            continue
        tail = re.split(r"[,()]", body[m.end():], maxsplit=1)[0]
        (optional if "where" in tail else required).append(name)
    return required, optional


def spec_names():
    """(functions, constants, optional constants, methods, source)."""
    if not os.path.exists(SPEC_PATH):
        return (FALLBACK_FUNCTIONS, FALLBACK_CONSTANTS, FALLBACK_OPTIONAL,
                FALLBACK_METHODS, "embedded list")
    with open(SPEC_PATH, encoding="utf-8") as f:
        sections = spec_sections(f.read())
    consts, optional = constant_names(sections[4])
    return (first_column_names(sections[2]), consts, optional,
            first_column_names(sections[5]), SPEC_PATH)


def test_every_spec_name_exists(track):
    """Walks every name of SPEC.md sections 2 (functions), 4 (constants) and
    5 (socket methods), parsed from <repo>/../shared/SPEC.md at test time.
    If SPEC.md is absent (a checkout without shared/), it falls back to an
    embedded copy of the same names (FALLBACK_* above). SOCK_RAW and
    SO_REUSEPORT are required only where CPython's socket has them."""
    funcs, consts, optional, methods, source = spec_names()
    # The parse itself must have found the tables, or this test proves nothing.
    assert {"socket", "getaddrinfo", "inet_ntop", "inet_pton"} <= set(funcs), source
    assert len(consts) >= 20 and {"SOCK_RAW", "SO_REUSEPORT"} <= set(optional), source
    assert "IPPROTO_SEC" not in consts
    assert len(methods) >= 20 and "readline" in methods, source

    missing = [n for n in funcs if not callable(getattr(usocket, n, None))]
    for name in consts + [n for n in optional if hasattr(socket, n)]:
        value = getattr(usocket, name, None)
        if not isinstance(value, int):
            missing.append(name)
        elif hasattr(socket, name):
            assert value == getattr(socket, name), f"{name}: not the platform's value"
    s = track(usocket.socket())
    for name in methods:
        if name == "with":
            if not (hasattr(s, "__enter__") and hasattr(s, "__exit__")):
                missing.append("__enter__/__exit__")
        elif name == "__repr__":
            if type(s).__repr__ is object.__repr__:
                missing.append("__repr__ (only object's)")
        elif not callable(getattr(s, name, None)):
            missing.append("socket." + name)
    assert missing == [], f"missing from usocket (names from {source})"


@pytest.mark.parametrize("name,internal", [
    ("usocket", ["us_read", "us_write", "us__host", "uspy_sock_write", "us_pollset_wait"]),
    ("uselect", ["us_pollset_wait", "us__wait_run", "uspy_ipoll_new", "us__host"]),
])
def test_a_module_exports_its_init_function_and_nothing_else(name, internal):
    # The core and the glue inside a module are its own: nothing another
    # library could interpose on, and no symbol clash between the two
    # modules that each carry a copy of the core.
    path = __import__(name).__file__
    lib = ctypes.CDLL(path)
    assert getattr(lib, "PyInit_" + name)
    for sym in internal:
        with pytest.raises(AttributeError):
            getattr(lib, sym)


def test_documented_types_exist():
    assert isinstance(usocket.socket, type)
    assert isinstance(usocket.sockaddr, type)
    assert isinstance(usocket.BufferedStream, type)


@pytest.mark.parametrize("name", ["error", "gaierror", "herror"])
def test_no_cpython_only_exception_names(name):
    # SPEC 1: errors are OSError; there is no usocket.error/gaierror/herror.
    assert not hasattr(usocket, name)


# ---- socket() ---------------------------------------------------------------

# Linux's values where CPython lacks the names.
SO_TYPE = socket.SO_TYPE
SO_PROTOCOL = getattr(socket, "SO_PROTOCOL", 38)
SO_DOMAIN = getattr(socket, "SO_DOMAIN", 39)


def sock_kind(s):
    return (s.getsockopt(usocket.SOL_SOCKET, SO_DOMAIN),
            s.getsockopt(usocket.SOL_SOCKET, SO_TYPE),
            s.getsockopt(usocket.SOL_SOCKET, SO_PROTOCOL))


def test_socket_defaults_to_ipv4_tcp(track):
    s = track(usocket.socket())
    assert sock_kind(s) == (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)


@pytest.mark.parametrize("af,kind,want_proto", [
    (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP),
    (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP),
    (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP),
    (socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP),
])
def test_socket_proto_zero_is_chosen_from_type(track, af, kind, want_proto):
    s = track(usocket.socket(af, kind, 0))
    assert sock_kind(s) == (af, kind, want_proto)


def test_socket_explicit_proto(track):
    s = track(usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM, usocket.IPPROTO_UDP))
    assert sock_kind(s)[2] == socket.IPPROTO_UDP


def test_socket_page_samples_create_stream_and_dgram(track):
    # The page: socket(AF_INET, SOCK_STREAM) and socket(AF_INET, SOCK_DGRAM).
    from usocket import AF_INET, SOCK_DGRAM, SOCK_STREAM, socket as us_socket
    tcp = track(us_socket(AF_INET, SOCK_STREAM))
    udp = track(us_socket(AF_INET, SOCK_DGRAM))
    assert sock_kind(tcp)[1] == socket.SOCK_STREAM
    assert sock_kind(udp)[1] == socket.SOCK_DGRAM


def test_socket_unknown_family_is_eafnosupport():
    with pytest.raises(OSError) as e:
        usocket.socket(12345, usocket.SOCK_STREAM)
    assert e.value.errno == errno.EAFNOSUPPORT


def test_socket_unknown_type_is_an_oserror():
    with pytest.raises(OSError) as e:
        usocket.socket(usocket.AF_INET, 12345)
    assert e.value.errno in (errno.EINVAL, errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT)


def test_socket_mismatched_proto_is_eprotonosupport():
    with pytest.raises(OSError) as e:
        usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM, usocket.IPPROTO_UDP)
    assert e.value.errno == errno.EPROTONOSUPPORT


@pytest.mark.parametrize("args", [
    ("x",), (usocket.AF_INET, "x"), (usocket.AF_INET, usocket.SOCK_STREAM, 1.5),
    (2.0,), (None,), (usocket.AF_INET, usocket.SOCK_STREAM, 0, 0),
])
def test_socket_wrong_argument_types(args):
    with pytest.raises(TypeError):
        usocket.socket(*args)


def test_socket_arguments_are_positional_only():
    with pytest.raises(TypeError):
        usocket.socket(af=usocket.AF_INET)


@pytest.mark.parametrize("args", [
    (2**32 + socket.AF_INET,), (socket.AF_INET, 2**32 + socket.SOCK_STREAM),
    (-2**32 + socket.AF_INET,),
])
def test_socket_huge_values_are_not_truncated(track, args):
    # Truncated to 32 bits, these would make a valid IPv4 TCP socket.
    with pytest.raises((OverflowError, OSError, ValueError)):
        track(usocket.socket(*args))


# ---- getaddrinfo ------------------------------------------------------------

def triples(results):
    return [(int(f), int(t), int(p)) for f, t, p, _, _ in results]


NUMERIC_CASES = [
    ("127.0.0.1", 80),
    ("127.0.0.1", 0),
    ("127.0.0.1", 65535),
    ("127.0.0.1", "8080"),
    (b"127.0.0.1", 80),
    ("0.0.0.0", 1),
    ("1.2.3.4", 443, socket.AF_INET),
    ("1.2.3.4", 443, 0, socket.SOCK_STREAM),
    ("1.2.3.4", 443, 0, socket.SOCK_DGRAM),
    ("1.2.3.4", 443, 0, 0, socket.IPPROTO_UDP),
    ("1.2.3.4", 443, socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP, 0),
    ("::1", 80),
    ("::", 9),
    ("2001:db8::1", 53, socket.AF_INET6, socket.SOCK_DGRAM),
    ("::ffff:1.2.3.4", 7),
    ("fe80::1%1", 80),
]


@pytest.mark.parametrize("args", NUMERIC_CASES, ids=repr)
def test_getaddrinfo_numeric_matches_cpython(args):
    want = socket.getaddrinfo(*args)
    got = usocket.getaddrinfo(*args)
    assert isinstance(got, list)
    assert triples(got) == triples(want)
    for g, w in zip(got, want):
        assert len(g) == 5
        assert g[3] == w[3] == ""
        assert g[4] == w[4]
        assert tuple(g[4]) == w[4]


@pytest.mark.parametrize("args", [
    (None, 80), (None, 0, socket.AF_INET), (None, 80, 0, 0, 0, socket.AI_PASSIVE),
    ("localhost", 80, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_CANONNAME),
], ids=repr)
def test_getaddrinfo_resolver_path_matches_cpython(args):
    want = socket.getaddrinfo(*args)
    got = usocket.getaddrinfo(*args)
    assert triples(got) == triples(want)
    assert [g[3] for g in got] == [w[3] for w in want]
    assert [tuple(g[4]) for g in got] == [w[4] for w in want]


def test_getaddrinfo_service_name_port():
    if not os.path.exists("/etc/services"):
        pytest.skip("no /etc/services")
    got = usocket.getaddrinfo("127.0.0.1", "http", 0, usocket.SOCK_STREAM)
    assert tuple(got[0][4]) == ("127.0.0.1", 80)


RESOLVER_SHIM = r"""
#include <netdb.h>
/* Every resolver call fails: what still works never reached it. */
int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res) {
  (void)node; (void)service; (void)hints;
  *res = 0;
  return EAI_FAIL;
}
"""

FAST_PATH_CHILD = """
import socket, usocket
try:
    socket.getaddrinfo("10.1.2.3", 80)
    print("control: resolver shim inactive")
except OSError as e:
    print("control failed", e.args[0])
for args in [("10.1.2.3", 80), ("::1", 443, usocket.AF_INET6),
             ("127.0.0.1", "8080", 0, usocket.SOCK_STREAM), ("fe80::1%1", 80)]:
    try:
        print("numeric", args[0], tuple(usocket.getaddrinfo(*args)[0][4]))
    except OSError as e:
        print("numeric", args[0], "failed", e.args[0])
s = usocket.socket()
s.bind(("127.0.0.1", 0))
print("bind ok", s.getsockname()[0])
s.close()
try:
    usocket.getaddrinfo("localhost", 80)
    print("name resolved")
except OSError as e:
    print("name failed", e.args[0])
"""


@pytest.fixture(scope="module")
def no_resolver_run(tmp_path_factory):
    """The output of FAST_PATH_CHILD run with a libc whose getaddrinfo()
    always fails (an LD_PRELOAD shim). Skipped without a C compiler."""
    import shutil
    import subprocess
    import sys
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to build the resolver shim")
    tmp = tmp_path_factory.mktemp("shim")
    (tmp / "shim.c").write_text(RESOLVER_SHIM)
    shim = tmp / "shim.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(shim), str(tmp / "shim.c")],
                   check=True, timeout=60)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(usocket.__path__[0]))
    env["LD_PRELOAD"] = " ".join(filter(None, [env.get("LD_PRELOAD"), str(shim)]))
    proc = subprocess.run([sys.executable, "-c", FAST_PATH_CHILD], env=env,
                          capture_output=True, text=True, timeout=30)
    out = proc.stdout + proc.stderr
    assert "control failed -4" in out, out  # EAI_FAIL: the shim is in effect
    assert "name failed -4" in out, out  # names do go to the resolver
    return out


def test_getaddrinfo_numeric_hosts_never_reach_the_resolver(no_resolver_run):
    out = no_resolver_run
    assert "numeric 10.1.2.3 ('10.1.2.3', 80)" in out, out
    assert "numeric ::1 ('::1', 443, 0, 0)" in out, out
    assert "numeric 127.0.0.1 ('127.0.0.1', 8080)" in out, out
    assert "bind ok 127.0.0.1" in out, out


def test_getaddrinfo_numeric_ipv6_with_scope_never_reaches_the_resolver(no_resolver_run):
    assert "numeric fe80::1%1 ('fe80::1', 80, 0, 1)" in no_resolver_run


def test_getaddrinfo_localhost_resolves():
    got = usocket.getaddrinfo("localhost", 80, usocket.AF_INET, usocket.SOCK_STREAM)
    assert tuple(got[0][4]) == ("127.0.0.1", 80)


def test_getaddrinfo_unknown_host_is_negative_code():
    with pytest.raises(OSError) as e:
        usocket.getaddrinfo("no-such-host.invalid", 80)
    assert isinstance(e.value.args[0], int) and e.value.args[0] < 0
    assert len(e.value.args) >= 2 and isinstance(e.value.args[1], str) and e.value.args[1]
    assert not isinstance(e.value, socket.gaierror)


def test_getaddrinfo_family_mismatch_gives_cpythons_code():
    with pytest.raises(socket.gaierror) as want:
        socket.getaddrinfo("127.0.0.1", 80, socket.AF_INET6)
    with pytest.raises(OSError) as got:
        usocket.getaddrinfo("127.0.0.1", 80, usocket.AF_INET6)
    assert got.value.args[0] == want.value.args[0] < 0


@pytest.mark.parametrize("port", [65536, -1, 2**32 + 80, 2**64])
def test_getaddrinfo_port_out_of_range(port):
    # CPython's own getaddrinfo truncates 65616 to 80; ours must refuse.
    with pytest.raises(OverflowError):
        usocket.getaddrinfo("127.0.0.1", port)


@pytest.mark.parametrize("port", ["65536", "70000", "-1"])
def test_getaddrinfo_numeric_string_port_out_of_range(port):
    # glibc silently takes "70000" as 4464; a port must be 0-65535.
    with pytest.raises((OverflowError, OSError)):
        usocket.getaddrinfo("127.0.0.1", port)


@pytest.mark.parametrize("args", [
    (123, 80), ("127.0.0.1", 80.0), ("127.0.0.1", [80]),
    ("127.0.0.1", 80, "x"), ("127.0.0.1",), (),
])
def test_getaddrinfo_wrong_types(args):
    with pytest.raises(TypeError):
        usocket.getaddrinfo(*args)


def test_getaddrinfo_bad_service_is_negative_code():
    with pytest.raises(OSError) as e:
        usocket.getaddrinfo("127.0.0.1", "no-such-service-xyz")
    assert e.value.args[0] < 0


def test_getaddrinfo_embedded_nul_is_rejected():
    with pytest.raises((ValueError, TypeError, OSError)):
        usocket.getaddrinfo("127.0.0.1\0evil", 80)


def test_page_sample_getaddrinfo_then_connect(track):
    """The page's sample, against a local server: getaddrinfo(...)[0][-1]
    (for numeric addresses too) then connect, send a request, read reply."""
    srv = track(socket.socket())
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(5)
    port = srv.getsockname()[1]

    def serve():
        conn, _ = srv.accept()
        with conn:
            conn.settimeout(5)
            req = b""
            while not req.endswith(b"\r\n\r\n"):
                chunk = conn.recv(100)
                if not chunk:
                    return
                req += chunk
            conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + req[:3])

    t = threading.Thread(target=serve, daemon=True)
    t.start()

    import usocket as socket_  # the page's code, with its own module name
    s = track(socket_.socket())
    s.connect(socket_.getaddrinfo("127.0.0.1", port)[0][-1])
    s.send(b"GET / HTTP/1.0\r\n\r\n")
    reply = s.read()
    t.join(5)
    assert reply == b"HTTP/1.0 200 OK\r\n\r\nGET"

    addr = socket_.getaddrinfo("127.0.0.1", port, 0, socket_.SOCK_STREAM)[0][-1]
    assert tuple(addr) == ("127.0.0.1", port)


# ---- inet_ntop / inet_pton --------------------------------------------------

def test_page_sample_inet_ntop_and_pton():
    assert usocket.inet_ntop(usocket.AF_INET, b"\x7f\0\0\1") == "127.0.0.1"
    assert usocket.inet_pton(usocket.AF_INET, "1.2.3.4") == b"\x01\x02\x03\x04"


@pytest.mark.parametrize("packed,text", [
    (bytes(15) + b"\1", "::1"),
    (bytes(16), "::"),
    (bytes.fromhex("20010db8000000000000000000000001"), "2001:db8::1"),
    # RFC 5952: one 16-bit zero field is not compressed ...
    (bytes.fromhex("20010db8000000010001000100010001"), "2001:db8:0:1:1:1:1:1"),
    # ... the longest run is, the first of equal runs, in lower case.
    (bytes.fromhex("00010000000000020000000000030004"), "1::2:0:0:3:4"),
    (bytes.fromhex("20010db8000000000001000000000001"), "2001:db8::1:0:0:1"),
    (bytes.fromhex("20010DB800000000000000000000ABCD"), "2001:db8::abcd"),
    (bytes.fromhex("00000000000000000000ffff01020304"), "::ffff:1.2.3.4"),
    (bytes.fromhex("00010000000000000000000000000000"), "1::"),
])
def test_inet_ntop_ipv6_rfc5952(packed, text):
    assert usocket.inet_ntop(usocket.AF_INET6, packed) == text
    assert usocket.inet_pton(usocket.AF_INET6, text) == packed


def test_inet_ntop_pton_match_cpython_on_random_addresses():
    import random
    rnd = random.Random(5952)
    for _ in range(300):
        # Zero-rich addresses exercise the compression rules.
        words = [rnd.choice([0, 0, 1, rnd.getrandbits(16)]) for _ in range(8)]
        packed = b"".join(w.to_bytes(2, "big") for w in words)
        text = socket.inet_ntop(socket.AF_INET6, packed)
        if "." in text and not text.startswith("::ffff:"):
            continue  # glibc's deprecated "::a.b.c.d", not RFC 5952's form
        assert usocket.inet_ntop(usocket.AF_INET6, packed) == text
        assert usocket.inet_pton(usocket.AF_INET6, text) == packed
        p4 = bytes(rnd.getrandbits(8) for _ in range(4))
        assert usocket.inet_ntop(usocket.AF_INET, p4) == socket.inet_ntop(socket.AF_INET, p4)


def test_inet_ntop_accepts_bytes_like():
    assert usocket.inet_ntop(usocket.AF_INET, bytearray(b"\x0a\0\0\1")) == "10.0.0.1"
    assert usocket.inet_ntop(usocket.AF_INET, memoryview(b"xx\xc0\xa8\0\1")[2:]) == "192.168.0.1"


@pytest.mark.parametrize("af,packed", [
    (socket.AF_INET, b"\1\2\3"), (socket.AF_INET, b"\1\2\3\4\5"), (socket.AF_INET, b""),
    (socket.AF_INET6, bytes(4)), (socket.AF_INET6, bytes(15)), (socket.AF_INET6, bytes(17)),
])
def test_inet_ntop_wrong_length_is_valueerror(af, packed):
    with pytest.raises(ValueError):
        usocket.inet_ntop(af, packed)


def test_inet_ntop_unknown_family_is_eafnosupport():
    with pytest.raises(OSError) as e:
        usocket.inet_ntop(12345, b"\1\2\3\4")
    assert e.value.errno == errno.EAFNOSUPPORT


def test_inet_pton_unknown_family_is_eafnosupport():
    with pytest.raises(OSError) as e:
        usocket.inet_pton(12345, "1.2.3.4")
    assert e.value.errno == errno.EAFNOSUPPORT


@pytest.mark.parametrize("af,text", [
    (socket.AF_INET, "1.2.3"), (socket.AF_INET, "256.1.1.1"), (socket.AF_INET, ""),
    (socket.AF_INET, "abc"), (socket.AF_INET, "1.2.3.4 "), (socket.AF_INET, "::1"),
    (socket.AF_INET, "1.2.3.4.5"), (socket.AF_INET6, ":::"), (socket.AF_INET6, "1.2.3.4"),
    (socket.AF_INET6, "1::2::3"), (socket.AF_INET6, "12345::"), (socket.AF_INET6, ""),
])
def test_inet_pton_invalid_text_is_einval(af, text):
    with pytest.raises(OSError) as e:
        usocket.inet_pton(af, text)
    assert e.value.errno == errno.EINVAL


def test_inet_pton_embedded_nul_is_rejected():
    with pytest.raises((OSError, ValueError)):
        usocket.inet_pton(usocket.AF_INET, "1.2.3.4\0")


@pytest.mark.parametrize("call", [
    lambda: usocket.inet_ntop(usocket.AF_INET, "1234"),
    lambda: usocket.inet_ntop(usocket.AF_INET, 1234),
    lambda: usocket.inet_ntop("x", b"1234"),
    lambda: usocket.inet_pton(usocket.AF_INET, 1234),
    lambda: usocket.inet_pton(usocket.AF_INET, None),
    lambda: usocket.inet_pton("x", "1.2.3.4"),
    lambda: usocket.inet_pton(usocket.AF_INET),
])
def test_inet_wrong_types(call):
    with pytest.raises(TypeError):
        call()


def test_inet_pton_returns_bytes():
    assert type(usocket.inet_pton(usocket.AF_INET6, "::1")) is bytes


def test_embedded_name_list_matches_spec():
    """The fallback list must stay the same as SPEC.md, when SPEC.md exists."""
    if not os.path.exists(SPEC_PATH):
        pytest.skip("SPEC.md is absent: the embedded list is in use")
    funcs, consts, optional, methods, _ = spec_names()
    assert funcs == FALLBACK_FUNCTIONS
    assert consts == FALLBACK_CONSTANTS
    assert optional == FALLBACK_OPTIONAL
    assert sorted(set(methods)) == sorted(FALLBACK_METHODS)
