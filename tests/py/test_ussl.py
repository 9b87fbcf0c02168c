"""test_ussl.py: ussl, MicroPython's ssl/tls on CPython over usocket's
sockets, against real peers on loopback: openssl s_server and s_client,
curl, and CPython's own ssl, as client and server. Secure by default, and
every failure an OSError that names what failed and its fix."""
import errno
import os
import socket
import ssl
import subprocess
import threading
import time

import pytest

from timing import late
from ussl_util import (Pki, Thread, cpython_listener, cpython_server, free_port, open_fds,
                       spawn, stop, tool_env, wait_port)

ussl = pytest.importorskip("ussl")
import uselect  # noqa: E402
import usocket  # noqa: E402


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def no_leak():
    """Every descriptor a test opened is closed by its end."""
    before = open_fds()
    yield
    assert open_fds() == before


def client_ctx(pki):
    ctx = ussl.SSLContext(ussl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=pki.path("ca.pem"))
    return ctx


def server_ctx(pki, cert="srv"):
    ctx = ussl.SSLContext(ussl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.path(cert + ".pem"), pki.path(cert + ".key"))
    return ctx


def connected(port, timeout=10):
    s = usocket.socket()
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def our_server(ctx, handler, timeout=10):
    """Our TLS server for one connection, in a thread: handler(tls)."""
    ls = usocket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(2)
    ls.settimeout(timeout)
    port = ls.getsockname().port

    def body():
        try:
            c, _ = ls.accept()
            c.settimeout(timeout)
            with ctx.wrap_socket(c, server_side=True) as t:
                return handler(t)
        finally:
            ls.close()

    t = Thread(body)
    t.start()
    return t, port


# ---- our client ------------------------------------------------------------


def test_client_to_openssl_s_server(pki, no_leak):
    port = free_port()
    proc = spawn(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert",
                  pki.path("srv.pem"), "-key", pki.path("srv.key"), "-rev", "-quiet"])
    try:
        wait_port(port)
        with client_ctx(pki).wrap_socket(connected(port), server_hostname="localhost") as t:
            assert t.write(b"hello world\n") == 12
            assert t.readline() == b"dlrow olleh\n"
            assert t.cipher()[1] == "TLSv1.3"
    finally:
        stop(proc)


def test_client_to_cpython_server_stream_methods(pki, no_leak):
    def echo(t):
        got = b""
        while not got.endswith(b"END\n"):
            got += t.recv(1000)
        t.sendall(got)
        return got

    peer, port = cpython_server(pki, "srv", echo)
    with client_ctx(pki).wrap_socket(connected(port), server_hostname="localhost") as t:
        assert t.write(b"0123456789", 3) == 3          # write(buf, max_len)
        assert t.write(b"0123456789", 5, 2) == 2       # write(buf, off, max_len)
        assert t.write("é-") == 3                      # a str as UTF-8
        assert t.send(b"x") == 1
        assert t.sendall(bytearray(b"END\n")) is None
        assert t.read(3) == b"012"
        buf = bytearray(2)
        assert t.readinto(buf) == 2 and buf == b"56"
        assert t.recv_into(memoryview(bytearray(1))) == 1
        assert t.readline() == b"\xa9-xEND\n"  # the rest of the \xc3\xa9
        assert t.fileno() >= 0
        assert t.server_hostname == "localhost" and not t.server_side
        for bad in (lambda: t.write(1), lambda: t.write(b"x", "1"), lambda: t.read("3"),
                    lambda: t.readinto(b"ro"), lambda: t.recv(), lambda: t.send(3),
                    lambda: t.sendall(None), lambda: t.recv_into(bytearray(1), "n")):
            with pytest.raises(TypeError):
                bad()
        with pytest.raises(ValueError):
            t.readinto(bytearray(1), 2)
        with pytest.raises(ValueError):
            t.recv(-1)
    assert t.fileno() == -1
    assert peer.outcome() == b"01256" + "é-".encode() + b"xEND\n"


def test_getpeercert_and_cipher(pki, no_leak):
    peer, port = cpython_server(pki, "srv", lambda t: t.sendall(b"hi\n"))
    with client_ctx(pki).wrap_socket(connected(port), server_hostname="localhost") as t:
        assert t.getpeercert(True) == pki.data("srv.der")
        cert = t.getpeercert()
        assert cert["subject"] == ((("commonName", "localhost"),),)
        assert cert["issuer"] == ((("commonName", "usocket-test-ca"),),)
        assert ("DNS", "localhost") in cert["subjectAltName"]
        assert cert["notBefore"] and cert["notAfter"]
        name, version, bits = t.cipher()
        assert name.startswith("TLS_") and version == "TLSv1.3" and bits in (128, 256)
        assert t.readline() == b"hi\n"
        with pytest.raises(TypeError):
            t.getpeercert(binary_form=True, extra=1)
    peer.outcome()
    # Before any handshake: nothing to tell.
    s = usocket.socket()
    with client_ctx(pki).wrap_socket(s, server_hostname="localhost") as t:
        with pytest.raises(OSError) as e:
            t.getpeercert()
        assert e.value.errno == errno.ENOTCONN


@pytest.mark.parametrize("cert,words", [
    ("srv", ["not trusted", "cert_reqs=CERT_NONE", "cadata="]),
    ("expired", ["expired", "cert_reqs=CERT_NONE"]),
    ("wrong", ["another host name", "server_hostname="]),
])
def test_module_wrap_socket_verifies_by_default_and_names_the_fix(pki, no_leak, cert, words):
    peer, port = cpython_server(pki, cert, lambda t: None)
    # The legacy wrap_socket too: the platform's store (which lacks our
    # CA), or cadata; either way the certificate is checked.
    kw = {} if cert == "srv" else {"cadata": pki.data("ca.pem")}
    with connected(port) as s, pytest.raises(OSError) as e:
        ussl.wrap_socket(s, server_hostname="localhost", **kw)
    msg = str(e.value)
    assert msg.startswith("[Errno %d] certificate verify failed" % e.value.errno)
    for w in words:
        assert w in msg
    peer.outcome()


def test_context_error_names_its_own_fix(pki, no_leak):
    peer, port = cpython_server(pki, "srv", lambda t: None)
    ctx = ussl.SSLContext(ussl.PROTOCOL_TLS_CLIENT)
    with connected(port) as s, pytest.raises(
            OSError, match=r"not trusted.*verify_mode = CERT_NONE.*load_verify_locations"):
        ctx.wrap_socket(s, server_hostname="localhost")
    peer.outcome()


def test_cert_none_skips_verification(pki, no_leak):
    peer, port = cpython_server(pki, "wrong", lambda t: t.sendall(b"ok\n"))
    with ussl.wrap_socket(connected(port), cert_reqs=ussl.CERT_NONE) as t:
        assert t.readline() == b"ok\n"
    peer.outcome()
    peer, port = cpython_server(pki, "expired", lambda t: t.sendall(b"ok\n"))
    ctx = ussl.SSLContext(ussl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ussl.CERT_NONE  # MicroPython's idiom: names unchecked too
    assert not ctx.check_hostname
    with ctx.wrap_socket(connected(port)) as t:
        assert t.readline() == b"ok\n"
    peer.outcome()


def hello(t):
    t.sendall(b"hello\n")


def test_check_hostname_false_verifies_the_certificate_but_not_its_name(pki, no_leak):
    """As CPython's: check_hostname = False with CERT_REQUIRED takes a
    trusted certificate made for another name, even with no name given;
    an untrusted or expired one still fails; check_hostname = True fails
    on the name, saying how to turn the check off."""
    ctx = client_ctx(pki)
    ctx.check_hostname = False
    assert ctx.verify_mode == ussl.CERT_REQUIRED
    for host in ("localhost", None):
        peer, port = cpython_server(pki, "wrong", hello)
        with ctx.wrap_socket(connected(port), server_hostname=host) as t:
            assert t.readline() == b"hello\n"
            assert t.getpeercert()["subjectAltName"] == (("DNS", "other.example"),)
        peer.outcome()
    bare = ussl.SSLContext(ussl.PROTOCOL_TLS_CLIENT)  # the platform's CAs
    bare.check_hostname = False
    for c, cert, words in ((bare, "srv", "not trusted"), (ctx, "expired", "expired")):
        peer, port = cpython_server(pki, cert, hello)
        with connected(port) as s, pytest.raises(OSError, match=words):
            c.wrap_socket(s, server_hostname="localhost")
        peer.outcome()
    ctx.check_hostname = True
    peer, port = cpython_server(pki, "wrong", hello)
    with connected(port) as s, pytest.raises(
            OSError, match="another host name.*check_hostname = False"):
        ctx.wrap_socket(s, server_hostname="localhost")
    peer.outcome()


def test_verify_mode_back_on_checks_the_name_again(pki, no_leak):
    """MicroPython code turns verification off and on with verify_mode
    alone: on again, the host name is checked again."""
    ctx = client_ctx(pki)
    ctx.verify_mode = ussl.CERT_NONE
    ctx.verify_mode = ussl.CERT_REQUIRED
    peer, port = cpython_server(pki, "wrong", hello)
    with connected(port) as s, pytest.raises(OSError, match="another host name"):
        ctx.wrap_socket(s, server_hostname="localhost")
    peer.outcome()


def test_verifying_client_without_a_name_is_told_to_give_one(pki, no_leak):
    ls, port = cpython_listener()
    with ls, connected(port) as s:
        with pytest.raises(OSError, match="needs a server host name.*server_hostname="):
            ussl.wrap_socket(s)


# ---- our server ------------------------------------------------------------


def test_server_to_openssl_s_client(pki, no_leak):
    peer, port = our_server(server_ctx(pki), lambda t: t.write(t.readline().upper()))
    proc = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                           "-CAfile", pki.path("ca.pem"), "-verify_return_error",
                           "-verify_hostname", "localhost", "-quiet"],
                          input=b"shout\n", capture_output=True, timeout=20, env=tool_env())
    assert proc.stdout == b"SHOUT\n"
    peer.outcome()


def test_server_to_curl(pki, no_leak):
    def http(t):
        while t.readline() not in (b"\r\n", b""):
            pass
        t.write(b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n")

    peer, port = our_server(server_ctx(pki), http)
    proc = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", pki.path("ca.pem"),
                           "https://localhost:%d/" % port], capture_output=True, timeout=20,
                          env=tool_env())
    assert proc.stdout == b"hello\n", proc.stderr
    peer.outcome()


def test_server_to_cpython_client_with_bytes_certificates(pki, no_leak):
    ctx = ussl.SSLContext(ussl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.data("srv.pem"), pki.data("srv.key"))  # data, as MicroPython
    peer, port = our_server(ctx, lambda t: t.write(b"served " + t.readline()))
    cctx = ssl.create_default_context(cafile=pki.path("ca.pem"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with cctx.wrap_socket(raw, server_hostname="localhost") as c:
            c.sendall(b"by ussl\n")
            assert c.recv(100) == b"served by ussl\n"
    peer.outcome()


def test_module_wrap_socket_server_with_key_and_cert(pki, no_leak):
    ls = usocket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(10)

    def serve():
        c, _ = ls.accept()
        c.settimeout(10)
        with ussl.wrap_socket(c, server_side=True, key=pki.data("srv.key"),
                              cert=pki.data("srv.pem")) as t:
            t.write(b"legacy\n")

    peer = Thread(serve)
    peer.start()
    with ussl.wrap_socket(connected(ls.getsockname().port), cadata=pki.data("ca.pem"),
                          server_hostname="localhost") as t:
        assert t.readline() == b"legacy\n"
    peer.outcome()
    ls.close()


# ---- timing, readiness, failures -------------------------------------------


def test_nonblocking_handshake_returns_none_until_done(pki, no_leak):
    peer, port = cpython_server(pki, "srv", lambda t: t.sendall(t.recv(100)))
    s = connected(port)
    s.setblocking(False)
    t = client_ctx(pki).wrap_socket(s, server_hostname="localhost",
                                    do_handshake_on_connect=False)
    nones = 0
    end = time.monotonic() + 10
    p = uselect.poll()
    p.register(t, uselect.POLLIN)
    while (n := t.write(b"nb\n")) is None:
        nones += 1
        assert time.monotonic() < end
        p.poll(100)
    assert n == 3 and nones >= 1
    got = b""
    while len(got) < 3:
        assert time.monotonic() < end
        part = t.read(3 - len(got))
        if part is None:
            p.poll(100)
        else:
            got += part
    assert got == b"nb\n"
    t.close()
    peer.outcome()


def test_poll_and_select_see_decrypted_bytes_pending(pki, no_leak):
    hold = threading.Event()

    def two_lines_in_one_record(t):
        t.sendall(b"one\ntwo\n")
        hold.wait(10)  # nothing more comes, and no EOF

    peer, port = cpython_server(pki, "srv", two_lines_in_one_record)
    with client_ctx(pki).wrap_socket(connected(port), server_hostname="localhost") as t:
        assert t.readline() == b"one\n"
        # The record was read whole: the socket has nothing more.
        raw = uselect.poll()
        raw.register(t.fileno(), uselect.POLLIN)
        assert raw.poll(0) == []
        p = uselect.poll()
        p.register(t, uselect.POLLIN)
        t0 = time.monotonic()
        assert p.poll(5000) == [(t, uselect.POLLIN)]
        assert time.monotonic() - t0 < late(0)
        assert uselect.select([t], [], [], 5) == ([t], [], [])
        assert t.readline() == b"two\n"
        assert p.poll(0) == []
        hold.set()
    peer.outcome()


def test_connect_after_wrap_handshakes_within_the_sockets_timeout(pki, no_leak):
    ls, port = cpython_listener()  # accepts (the kernel does) and never answers
    s = usocket.socket()
    s.settimeout(0.3)
    t = client_ctx(pki).wrap_socket(s, server_hostname="localhost")
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        t.connect(("127.0.0.1", port))
    took = time.monotonic() - t0
    assert 0.3 <= took < late(0.3)
    t.close()
    ls.close()


def test_connect_after_wrap_verifies_the_name_it_resolved(pki, no_leak):
    peer, port = cpython_server(pki, "srv", lambda t: t.sendall(b"named\n"))
    s = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM, usocket.IPPROTO_SEC)
    s.settimeout(10)
    t = ussl.wrap_socket(s, cadata=pki.data("ca.pem"))
    t.connect(usocket.getaddrinfo("localhost", port, usocket.AF_INET)[0][-1])
    assert t.server_hostname == "localhost"
    assert t.readline() == b"named\n"
    t.close()
    peer.outcome()
    with pytest.raises(OSError) as e:
        usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM, usocket.IPPROTO_SEC)
    assert e.value.errno == errno.EPROTONOSUPPORT


def test_garbage_instead_of_a_record_is_a_protocol_error(pki, no_leak):
    ls, port = cpython_listener()

    def garbage():
        c, _ = ls.accept()
        with c:
            c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n" * 4)
            time.sleep(0.2)
        ls.close()

    peer = Thread(garbage)
    peer.start()
    with connected(port) as s, pytest.raises(OSError, match="TLS protocol error"):
        client_ctx(pki).wrap_socket(s, server_hostname="localhost")
    peer.outcome()


def test_peer_closing_without_close_notify_is_an_error_not_eof(pki, no_leak):
    def cut(t):
        t.sendall(b"partial\n")
        # Then CPython's close(), which sends no close_notify: a cut.

    peer, port = cpython_server(pki, "srv", cut)
    with client_ctx(pki).wrap_socket(connected(port), server_hostname="localhost") as t:
        assert t.readline() == b"partial\n"
        peer.outcome()
        with pytest.raises(OSError, match="without close_notify"):
            t.read()


# ---- contexts: normal use and bad input ------------------------------------


def test_context_defaults_and_settings(pki):
    c = ussl.SSLContext(ussl.PROTOCOL_TLS_CLIENT)
    assert c.verify_mode == ussl.CERT_REQUIRED and c.check_hostname is True
    s = ussl.SSLContext(ussl.PROTOCOL_TLS_SERVER)
    assert s.verify_mode == ussl.CERT_NONE and s.check_hostname is False
    c.verify_mode = ussl.CERT_OPTIONAL
    assert c.verify_mode == ussl.CERT_OPTIONAL
    c.verify_mode = ussl.CERT_NONE
    c.check_hostname = True  # as CPython: checking a name needs verifying
    assert c.verify_mode == ussl.CERT_REQUIRED
    c.check_hostname = False  # as CPython: the certificate still verified
    assert c.verify_mode == ussl.CERT_REQUIRED and c.check_hostname is False
    c.verify_mode = ussl.CERT_NONE
    c.verify_mode = ussl.CERT_REQUIRED  # asked off: stays off
    assert c.check_hostname is False
    m = ussl.SSLContext(ussl.PROTOCOL_TLS_CLIENT)
    m.verify_mode = ussl.CERT_NONE  # MicroPython's idiom: the name too
    assert m.check_hostname is False
    m.verify_mode = ussl.CERT_REQUIRED  # and back: the name checked again
    assert m.check_hostname is True
    with pytest.raises(ValueError):
        ussl.SSLContext(5)
    with pytest.raises(TypeError):
        ussl.SSLContext("client")
    with pytest.raises(ValueError):
        c.verify_mode = 3
    with pytest.raises(TypeError):
        c.verify_mode = None


def test_load_cert_chain_paths_data_and_errors(pki):
    s = ussl.SSLContext(ussl.PROTOCOL_TLS_SERVER)
    s.load_cert_chain(pki.path("srv.pem"), pki.path("srv.key"))
    s.load_cert_chain(pki.data("srv.pem"), pki.data("srv.key"))
    s.load_cert_chain(pki.data("srv.pem") + pki.data("srv.key"))  # one blob
    with pytest.raises(FileNotFoundError):
        s.load_cert_chain(pki.path("missing.pem"))
    with pytest.raises(OSError, match="certificate data not understood"):
        s.load_cert_chain(b"not a certificate", b"nor a key")
    with pytest.raises(OSError, match="does not match"):
        s.load_cert_chain(pki.path("srv.pem"), pki.path("wrong.key"))
    with pytest.raises(TypeError):
        s.load_cert_chain(pki.path("srv.pem"), pki.data("srv.key"))
    with pytest.raises(TypeError):
        s.load_cert_chain(42)


def test_load_verify_locations_and_errors(pki):
    c = ussl.SSLContext(ussl.PROTOCOL_TLS_CLIENT)
    c.load_verify_locations(cafile=pki.path("ca.pem"))
    c.load_verify_locations(cadata=pki.data("ca.pem").decode())
    c.load_verify_locations(pki.path("ca.pem"), pki.data("ca.pem"))
    c.load_default_certs()
    with pytest.raises(TypeError):
        c.load_verify_locations()
    with pytest.raises(FileNotFoundError):
        c.load_verify_locations(pki.path("nothing.pem"))
    with pytest.raises(OSError, match="certificate data not understood"):
        c.load_verify_locations(cadata=b"garbage")


def test_ciphers_list_and_restrict(pki, no_leak):
    c = client_ctx(pki)
    names = c.get_ciphers()
    assert "TLS_AES_128_GCM_SHA256" in names and all(isinstance(n, str) for n in names)
    c.set_ciphers(["TLS_CHACHA20_POLY1305_SHA256"])
    assert c.get_ciphers()[0] == "TLS_CHACHA20_POLY1305_SHA256"
    assert "TLS_AES_128_GCM_SHA256" not in c.get_ciphers()
    peer, port = cpython_server(pki, "srv", lambda t: t.sendall(b"c\n"))
    with c.wrap_socket(connected(port), server_hostname="localhost") as t:
        assert t.cipher()[0] == "TLS_CHACHA20_POLY1305_SHA256"
        assert t.readline() == b"c\n"
    peer.outcome()
    with pytest.raises(OSError, match="cipher list names no cipher"):
        c.set_ciphers("NO-SUCH-CIPHER")
    with pytest.raises(TypeError):
        c.set_ciphers(7)
    with pytest.raises(TypeError):
        c.set_ciphers([1, 2])


def test_wrap_socket_bad_input(pki, no_leak):
    c = client_ctx(pki)
    cs = socket.socket()
    try:
        with pytest.raises(TypeError, match="usocket socket"):
            c.wrap_socket(cs, server_hostname="localhost")
    finally:
        cs.close()
    u = usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM)
    with pytest.raises(ValueError, match="SOCK_STREAM"):
        c.wrap_socket(u, server_hostname="localhost")
    u.close()
    s = usocket.socket()
    with pytest.raises(ValueError, match="PROTOCOL_TLS_SERVER"):
        c.wrap_socket(s, server_side=True)
    with pytest.raises(TypeError):
        c.wrap_socket(s, server_hostname=b"localhost")
    with pytest.raises(ValueError, match="key needs cert"):
        ussl.wrap_socket(s, key=b"k")
    s.close()
    with pytest.raises(OSError) as e:
        c.wrap_socket(s, server_hostname="localhost")
    assert e.value.errno == errno.EBADF
    t = c.wrap_socket(usocket.socket(), server_hostname="localhost")
    for call in (lambda: t.read(), lambda: t.write(b"x"), lambda: t.readline(),
                 lambda: t.recv(1), lambda: t.send(b"x"), lambda: t.sendall(b"x"),
                 lambda: t.readinto(bytearray(1)), lambda: t.recv_into(bytearray(1)),
                 lambda: t.do_handshake()):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno == errno.ENOTCONN
    with pytest.raises(TypeError):
        t.read(1, 2)
    with pytest.raises(TypeError):
        t.connect(("127.0.0.1",))
    t.close()
    t.close()  # idempotent
    with pytest.raises(OSError) as e:
        t.read()
    assert e.value.errno == errno.EBADF


def test_timeout_methods_reach_the_socket(pki, no_leak):
    s = usocket.socket()
    t = client_ctx(pki).wrap_socket(s, server_hostname="localhost")
    t.settimeout(2.5)
    assert t.gettimeout() == 2.5 == s.gettimeout()
    t.setblocking(False)
    assert s.gettimeout() == 0.0
    with pytest.raises(ValueError):
        t.settimeout(-1)
    t.close()
    assert s.fileno() == -1


def test_many_sessions_leak_no_descriptor(pki, no_leak):
    for _ in range(5):
        peer, port = cpython_server(pki, "srv", lambda t: t.sendall(b"x\n"))
        with client_ctx(pki).wrap_socket(connected(port), server_hostname="localhost") as t:
            assert t.readline() == b"x\n"
        peer.outcome()
        peer, port = cpython_server(pki, "wrong", lambda t: None)
        with connected(port) as s, pytest.raises(OSError, match="another host name"):
            client_ctx(pki).wrap_socket(s, server_hostname="localhost")
        peer.outcome()


# ---- the runner: ssl and tls are ussl for MicroPython code ------------------

SCRIPT = r'''
import sys
import threading
import socket
import ssl
import tls
import ussl

print("names", ssl.__name__, tls.__name__, ussl is ssl, type(socket.socket()).__module__)
ca, cert, key = sys.argv[1:4]
ls = socket.socket()
ls.bind(socket.getaddrinfo("127.0.0.1", 0)[0][-1])
ls.listen(1)
ls.settimeout(10)
port = ls.getsockname()[1]


def serve():
    c, _ = ls.accept()
    c.settimeout(10)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    s = ctx.wrap_socket(c, server_side=True)
    while s.readline() not in (b"\r\n", b""):
        pass
    s.write(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    s.close()


t = threading.Thread(target=serve)
t.start()
# The standard library, in the same process: CPython's ssl throughout.
import http.client
import urllib.request

cpython_ssl = http.client.ssl
context = cpython_ssl.create_default_context(cafile=ca)
with urllib.request.urlopen("https://localhost:%d/" % port, context=context, timeout=10) as r:
    print("urllib", cpython_ssl.__name__, cpython_ssl is not ssl, r.read())
t.join(10)
ls.close()
'''


def test_runner_maps_ssl_and_tls_to_ussl_while_stdlib_keeps_cpythons(pki, tmp_path):
    (tmp_path / "tls_script.py").write_text(SCRIPT)
    pydir = os.path.dirname(os.path.dirname(os.path.abspath(usocket.__file__)))
    env = dict(os.environ, PYTHONPATH=pydir, HOME=str(tmp_path))
    env.pop("MICROPYPATH", None)
    proc = subprocess.run(["/usr/bin/python3", "-m", "usocket", "run", "tls_script.py",
                           pki.path("ca.pem"), pki.path("srv.pem"), pki.path("srv.key")],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["names ussl ussl True usocket",
                                           "urllib ssl True b'hello'"]


def test_the_rest_of_the_names_normal_and_bad(pki, no_leak):
    assert ussl.ENGINE == "openssl"
    assert (ussl.PROTOCOL_TLS_CLIENT, ussl.PROTOCOL_TLS_SERVER) == (0, 1)
    assert (ussl.CERT_NONE, ussl.CERT_OPTIONAL, ussl.CERT_REQUIRED) == (0, 1, 2)
    with pytest.raises(TypeError):
        ussl.SSLSocket()
    c = client_ctx(pki)
    assert "client" in repr(c)
    with pytest.raises(TypeError):
        c.get_ciphers(1)
    with pytest.raises(TypeError):
        c.load_default_certs(1, 2)
    with pytest.raises(TypeError):
        ussl.wrap_socket()
    peer, port = cpython_server(pki, "srv", lambda t: t.sendall(t.recv(10)))
    s = connected(port)
    t = c.wrap_socket(s, server_hostname="localhost", do_handshake_on_connect=False)
    assert t.cipher() is None  # no handshake yet
    t.do_handshake()
    assert t.cipher() is not None
    with pytest.raises(TypeError):
        t.cipher(1)
    with pytest.raises(TypeError):
        t.readline("x")
    with pytest.raises(TypeError):
        t.do_handshake(1)
    assert t.getpeername().port == port
    assert t.getsockname().host == "127.0.0.1"
    t.setsockopt(usocket.IPPROTO_TCP, usocket.TCP_NODELAY, 1)
    with pytest.raises(TypeError):
        t.setsockopt(usocket.IPPROTO_TCP)
    with pytest.raises(OSError) as e:
        t.connect(("127.0.0.1", port))
    assert e.value.errno == errno.EISCONN
    t.setblocking(True)
    assert t.gettimeout() is None
    t.write(b"ping\n")
    assert t.readline() == b"ping\n"
    assert t.context is c and "fd=" in repr(t)
    t.close()
    peer.outcome()
    with pytest.raises(OSError) as e:
        t.getpeername()
    assert e.value.errno == errno.EBADF


def test_a_silent_peer_ends_the_handshake_at_the_deadline(pki, no_leak):
    # Our client, to a server that accepts and never answers.
    ls, port = cpython_listener()
    held = []
    peer = Thread(lambda: held.append(ls.accept()[0]))
    peer.start()
    s = connected(port, timeout=0.3)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        client_ctx(pki).wrap_socket(s, server_hostname="localhost")
    assert 0.3 <= time.monotonic() - t0 < late(0.3)
    peer.outcome()
    s.close()
    # Our server, to a client that connects and never speaks.
    us = usocket.socket()
    us.bind(("127.0.0.1", 0))
    us.listen(1)
    client = socket.create_connection(("127.0.0.1", us.getsockname().port), timeout=5)
    conn, _ = us.accept()
    conn.settimeout(0.3)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        server_ctx(pki).wrap_socket(conn, server_side=True)
    assert 0.3 <= time.monotonic() - t0 < late(0.3)
    for x in (conn, us, client, held[0], ls):
        x.close()



def test_close_in_another_thread_wakes_a_blocked_read(pki, no_leak):
    hold = threading.Event()
    peer, port = cpython_server(pki, "srv", lambda t: hold.wait(15))
    t = client_ctx(pki).wrap_socket(connected(port), server_hostname="localhost")
    reader = Thread(t.readline)
    reader.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    t.close()
    with pytest.raises(OSError) as e:
        reader.outcome(10)
    assert e.value.errno == errno.EBADF
    assert time.monotonic() - t0 < late(0)
    hold.set()
    peer.outcome()


def test_readline_takes_each_buffered_line_and_the_cut_ones(pki, no_leak):
    """Lines decrypted together come one per call (the fast path), a line
    cut across records comes whole, a size limit cuts a line, and the end
    comes after the last piece that has no newline."""
    def many(t):
        t.sendall(b"a\nbb\nccc\n" + b"x" * 50 + b"\n" + b"cut ")
        time.sleep(0.05)
        t.sendall(b"line\nlast")
        t.unwrap().close()  # close_notify: a clean end

    peer, port = cpython_server(pki, "srv", many)
    with client_ctx(pki).wrap_socket(connected(port), server_hostname="localhost") as t:
        assert t.readline() == b"a\n"
        assert t.readline() == b"bb\n"
        assert t.readline(2) == b"cc"
        assert t.readline() == b"c\n"
        assert t.readline() == b"x" * 50 + b"\n"
        assert t.readline() == b"cut line\n"
        assert t.readline() == b"last"
        assert t.readline() == b""
    peer.outcome()


def test_readline_after_close_fails_though_lines_are_buffered(pki, no_leak):
    """Lines decrypted ahead are not handed out once the stream, or the
    socket under it, is closed: readline raises EBADF."""
    def lines(t):
        t.sendall(b"one\ntwo\nthree\n")
        hold.wait(10)

    for close_what in ("stream", "socket"):
        hold = threading.Event()
        peer, port = cpython_server(pki, "srv", lines)
        sock = connected(port)
        t = client_ctx(pki).wrap_socket(sock, server_hostname="localhost")
        assert t.readline() == b"one\n"
        (t if close_what == "stream" else sock).close()
        with pytest.raises(OSError) as e:
            t.readline()
        assert e.value.errno == errno.EBADF, close_what
        t.close()
        hold.set()
        peer.outcome()


def test_ctrl_c_while_close_waits_to_send_close_notify_is_raised(pki, no_leak):
    """close() sends close_notify, waiting at most a second: here for a
    writer in another thread, blocked because the peer reads nothing. A
    Ctrl-C meanwhile is the caller's KeyboardInterrupt (never swallowed),
    the socket is closed all the same, and the writer wakes."""
    import signal

    done = threading.Event()
    peer, port = cpython_server(pki, "srv", lambda t: done.wait(10))
    t = client_ctx(pki).wrap_socket(connected(port), server_hostname="localhost")
    chunk = b"x" * 16384

    def writes_until_blocked():
        try:
            for _ in range(100000):
                t.write(chunk)
        except OSError as e:
            return e

    writer = Thread(writes_until_blocked)
    writer.start()
    time.sleep(0.3)  # the send buffers fill: the writer is blocked
    assert writer.is_alive()
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGALRM, lambda *a: os.kill(os.getpid(), signal.SIGINT))
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            t.close()
        assert time.monotonic() - t0 < late(0.2)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, old)
    assert t.fileno() == -1
    writer.join(10)
    assert not writer.is_alive()
    done.set()
    peer.outcome()
