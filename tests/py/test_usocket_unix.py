"""test_usocket_unix.py: AF_UNIX sockets in CPython's forms (str or bytes
paths, bytes abstract names, '' for an unnamed peer, None for no sender),
checked against CPython's own socket module where both can do the same;
and, when MICROPYTHON names a binary built with usocket, the unix port's
raw forms under MicroPython."""
import errno
import os
import socket
import subprocess
import threading

import pytest

import usocket

AF_UNIX = usocket.AF_UNIX
MAX_PATH = 108  # sizeof(sun_path) on Linux


@pytest.fixture
def socks():
    """Sockets to close at teardown, made by socks(family-type)."""
    made = []

    def make(kind=usocket.SOCK_STREAM, module=usocket):
        s = module.socket(AF_UNIX, kind)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def abstract_name(tag):
    return b"\0usocket-test-%d-%s" % (os.getpid(), tag.encode())


def test_af_unix_is_the_platform_value():
    assert usocket.AF_UNIX == socket.AF_UNIX


# ---- streams ------------------------------------------------------------------

def test_stream_over_a_file_name_names_and_data(socks, tmp_path):
    path = str(tmp_path / "srv")
    lst = socks()
    lst.bind(path)
    lst.listen(2)
    assert os.path.exists(path)
    assert lst.getsockname() == path
    cli = socks()
    cli.settimeout(5)
    cli.connect(path)
    conn, peer = lst.accept()
    try:
        # An unbound client is unnamed: '' as CPython gives it.
        assert peer == "" and type(peer) is str
        assert cli.getpeername() == path
        assert cli.getsockname() == ""
        assert conn.getsockname() == path
        cli.sendall(b"ping\n")
        conn.settimeout(5)
        assert conn.readline() == b"ping\n"
        conn.sendall(b"pong")
        assert cli.recv(10) == b"pong"
        # recvfrom on a stream: no sender address, as CPython.
        cli.sendall(b"z")
        assert conn.recvfrom(1) == (b"z", None)
    finally:
        conn.close()


def test_accept_gives_a_bound_clients_path(socks, tmp_path):
    srv_path, cli_path = str(tmp_path / "s"), str(tmp_path / "c")
    lst = socks()
    lst.bind(srv_path)
    lst.listen(1)
    cli = socks()
    cli.bind(cli_path)
    cli.connect(srv_path)
    conn, peer = lst.accept()
    conn.close()
    assert peer == cli_path
    ref = socks(module=socket)
    ref.bind(str(tmp_path / "r"))
    ref.connect(srv_path)
    conn, peer = lst.accept()
    conn.close()
    assert peer == str(tmp_path / "r")


def test_bytes_and_bytes_like_paths_name_the_same_file(socks, tmp_path):
    path = str(tmp_path / "b")
    lst = socks()
    lst.bind(os.fsencode(path))
    lst.listen(1)
    assert lst.getsockname() == path  # given back as str, as CPython
    for form in (bytearray(os.fsencode(path)), memoryview(os.fsencode(path))):
        c = socks()
        c.connect(form)
        assert c.getpeername() == path


def test_undecodable_file_names_round_trip_as_cpython(socks, tmp_path):
    raw = os.fsencode(str(tmp_path)) + b"/\xff\xfe"
    s = socks()
    s.bind(raw)
    s.listen(1)
    ref = socks(module=socket)
    ref.connect(raw)
    assert s.getsockname() == ref.getpeername()
    assert os.fsencode(s.getsockname()) == raw


def test_stream_over_an_abstract_name(socks):
    name = abstract_name("stream")
    lst = socks()
    lst.bind(name)
    lst.listen(1)
    got = lst.getsockname()
    assert got == name and type(got) is bytes
    cli = socks()
    cli.connect(name.decode())  # a str with a leading NUL is the same name
    conn, peer = lst.accept()
    conn.close()
    assert peer == ""
    assert cli.getpeername() == name
    # CPython's socket module reaches it too: it is the kernel's name.
    ref = socks(module=socket)
    ref.connect(name)
    assert ref.getpeername() == name


def test_blocking_connect_to_a_full_backlog_waits_for_room(socks):
    name = abstract_name("full")
    lst = socks()
    lst.bind(name)
    lst.listen(0)
    # Fill the backlog: a non-blocking connect to it fails (EAGAIN).
    for _ in range(16):
        filler = socks(module=socket)
        filler.setblocking(False)
        try:
            filler.connect(name)
        except BlockingIOError:
            break
    else:
        pytest.skip("the backlog never filled")
    cli = socks()
    assert cli.gettimeout() is None
    out = []
    t = threading.Thread(target=lambda: out.append(catch(cli.connect, name)))
    t.start()
    t.join(0.3)
    # As CPython's, a blocking connect waits for room, not fails.
    assert t.is_alive() and not out, out
    lst.accept()[0].close()  # makes room
    t.join(10)
    assert not t.is_alive()
    assert out == [None]
    assert cli.getpeername() == name


def catch(fn, *args):
    """None, or the exception fn(*args) raised."""
    try:
        fn(*args)
    except Exception as e:
        return e
    return None


def test_an_empty_name_is_picked_by_the_kernel(socks):
    s = socks(usocket.SOCK_DGRAM)
    s.bind("")
    got = s.getsockname()
    assert type(got) is bytes and got[:1] == b"\0" and len(got) > 1
    ref = socks(usocket.SOCK_DGRAM, module=socket)
    ref.sendto(b"to autobound", got)
    s.settimeout(5)
    assert s.recv(32) == b"to autobound"


# ---- datagrams ------------------------------------------------------------------

def test_datagrams_give_the_senders_name_or_none(socks, tmp_path):
    rx_path = str(tmp_path / "rx")
    rx = socks(usocket.SOCK_DGRAM)
    rx.bind(rx_path)
    rx.settimeout(5)
    bound = socks(usocket.SOCK_DGRAM)
    bound.bind(str(tmp_path / "tx"))
    assert bound.sendto(b"one", rx_path) == 3
    assert rx.recvfrom(16) == (b"one", str(tmp_path / "tx"))
    abstract = socks(usocket.SOCK_DGRAM)
    abstract.bind(abstract_name("dgram"))
    abstract.sendto(b"two", 0, rx_path)
    assert rx.recvfrom(16) == (b"two", abstract_name("dgram"))
    unbound = socks(usocket.SOCK_DGRAM)
    unbound.sendto(b"three", rx_path)
    # No sender name at all: None, as CPython's recvfrom gives it.
    assert rx.recvfrom(16) == (b"three", None)
    rx.settimeout(0)
    with pytest.raises(BlockingIOError):
        rx.recvfrom(16)


def test_datagrams_larger_than_any_ip_one_come_whole(socks, tmp_path):
    rx_path = str(tmp_path / "rx")
    rx = socks(usocket.SOCK_DGRAM)
    rx.bind(rx_path)
    rx.settimeout(5)
    tx = socks(usocket.SOCK_DGRAM)
    big = bytes(range(256)) * 400  # 102400 bytes: more than 65535
    tx.setsockopt(usocket.SOL_SOCKET, usocket.SO_SNDBUF, 4 * len(big))
    for recv in (lambda: rx.recvfrom(1 << 20)[0], lambda: rx.recv(1 << 20)):
        assert tx.sendto(big, rx_path) == len(big)
        assert recv() == big
    # A smaller buffer takes the datagram's head, as CPython's would.
    tx.sendto(big, rx_path)
    assert rx.recvfrom(1000)[0] == big[:1000]


def test_connected_datagram_socket(socks, tmp_path):
    rx_path = str(tmp_path / "rx")
    rx = socks(usocket.SOCK_DGRAM)
    rx.bind(rx_path)
    tx = socks(usocket.SOCK_DGRAM)
    tx.connect(rx_path)
    assert tx.getpeername() == rx_path
    tx.send(b"hi")
    rx.settimeout(5)
    assert rx.recv(8) == b"hi"


# ---- errors ---------------------------------------------------------------------

def test_paths_too_long_raise_as_cpython(socks):
    s = socks()
    for too_long in ("x" * MAX_PATH, b"\0" + b"y" * MAX_PATH):
        with pytest.raises(OSError, match="AF_UNIX path too long") as e:
            s.bind(too_long)
        assert e.value.errno == errno.ENAMETOOLONG
        with pytest.raises(OSError, match="AF_UNIX path too long"):
            socket.socket(socket.AF_UNIX).bind(too_long)
    # The longest that fit: a file name and its NUL; an abstract name.
    t = socks()
    t.bind(b"\0" + b"y" * (MAX_PATH - 1))
    assert len(t.getsockname()) == MAX_PATH


def test_longest_file_name_fits(socks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "n" * (MAX_PATH - 1)
    s = socks()
    s.bind(name)
    assert s.getsockname() == name
    assert os.path.exists(tmp_path / name)


@pytest.mark.parametrize("path", ["a\0b", b"a\0b"])
def test_nul_inside_a_file_name_is_a_value_error(socks, tmp_path, path,
                                                 monkeypatch):
    """CPython would cut the name at the NUL and bind "a"; we refuse."""
    monkeypatch.chdir(tmp_path)
    s = socks()
    with pytest.raises(ValueError, match="embedded null byte"):
        s.bind(path)
    with pytest.raises(ValueError):
        s.connect(path)
    with pytest.raises(ValueError):
        socks(usocket.SOCK_DGRAM).sendto(b"x", path)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("addr", [("127.0.0.1", 80), 7, None, 1.5])
def test_wrong_address_types_are_type_errors(socks, addr):
    s = socks()
    for call in (s.bind, s.connect):
        with pytest.raises(TypeError, match="AF_UNIX address"):
            call(addr)
    with pytest.raises(TypeError):
        socks(usocket.SOCK_DGRAM).sendto(b"x", addr)


def test_kernel_errors(socks, tmp_path):
    s = socks()
    with pytest.raises(FileNotFoundError):
        s.connect(str(tmp_path / "none"))
    path = str(tmp_path / "taken")
    s.bind(path)
    t = socks()
    with pytest.raises(OSError) as e:
        t.bind(path)
    assert e.value.errno == errno.EADDRINUSE
    with pytest.raises(ConnectionRefusedError):  # bound, not listening
        t.connect(path)
    s.close()
    with pytest.raises(OSError) as e:
        s.getsockname()
    assert e.value.errno == errno.EBADF


def test_files_are_the_callers_to_remove(socks, tmp_path):
    """As with CPython, closing leaves the socket file: the caller unlinks."""
    path = tmp_path / "left"
    s = socks()
    s.bind(str(path))
    s.close()
    assert path.exists()
    path.unlink()
    assert os.listdir(tmp_path) == []


# ---- under MicroPython ------------------------------------------------------

MP_SCRIPT = r"""
import socket, struct
d = %r
def raw(path):
    return struct.pack("H", socket.AF_UNIX) + path + b"\0"
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(raw(d + b"/srv"))
s.listen(2)
print(s.getsockname() == raw(d + b"/srv"))
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(raw(d + b"/srv"))
x, a = s.accept()
print(type(a).__name__, a, socket.sockaddr(a))
c.send(b"hi")
print(x.recv(5))
u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
u.bind(d.decode() + "/dg")
v = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
v.sendto(b"d", raw(d + b"/dg"))
print(u.recvfrom(10))
v.bind(raw(d + b"/v"))
v.sendto(b"e", d.decode() + "/dg")
m = u.recvfrom(10)
print(m[0], socket.sockaddr(m[1])[1] == d + b"/v\0")
big = bytes(range(256)) * 400
v.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * len(big))
v.sendto(big, d.decode() + "/dg")
print(u.recvfrom(1 << 20)[0] == big)
for bad in ((1, 2), 5):
    try:
        v.sendto(b"x", bad)
    except TypeError:
        print("TypeError")
for o in (s, c, x, u, v):
    o.close()
print("done")
"""


def test_unix_port_forms_under_micropython(tmp_path):
    mp = os.environ.get("MICROPYTHON", "").split(":")[0]
    if not mp:
        pytest.skip("MICROPYTHON is not set")
    script = tmp_path / "unix.py"
    script.write_text(MP_SCRIPT % os.fsencode(str(tmp_path)))
    r = subprocess.run([mp, str(script)], capture_output=True, text=True,
                       timeout=30)
    assert r.stdout.splitlines() == [
        "True",
        "bytearray bytearray(b'\\x01\\x00') (1, b'')",
        "b'hi'",
        "(b'd', b'')",
        "b'e' True",
        "True",
        "TypeError",
        "TypeError",
        "done",
    ], r.stdout + r.stderr
