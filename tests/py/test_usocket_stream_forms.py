"""test_usocket_stream_forms.py: MicroPython's stream forms and buffers:
write(buf[, off], max_len) clamped as py/stream.c, str taken as its UTF-8
bytes wherever a buffer is read, BufferedStream's readinto(buf, nbytes),
sockaddr(raw) and raw struct sockaddr addresses, MSG_DONTROUTE."""
import errno
import socket
import struct

import pytest


def recv_exactly(peer, n):
    got = b""
    while len(got) < n:
        chunk = peer.recv(n - len(got))
        assert chunk, "EOF before %d bytes" % n
        got += chunk
    return got


# ---- write forms -------------------------------------------------------------

# (args after buf, what buf b"0123456789" sends): py/stream.c's clamping,
# integers taken modulo 2**64 (so -1 is "no limit" / "the end").
WRITE_FORMS = [
    ((), b"0123456789"),
    ((4,), b"0123"),
    ((0,), b""),
    ((100,), b"0123456789"),
    ((-1,), b"0123456789"),
    ((-5,), b"0123456789"),
    ((2, 3), b"234"),
    ((7, 100), b"789"),
    ((10, 5), b""),
    ((11, 5), b""),
    ((2**40, 5), b""),
    ((-1, 5), b""),
    ((3, -1), b"3456789"),
    ((0, 2**64 + 2), b"01"),
    ((True, True), b"1"),
]


@pytest.mark.parametrize("args,want", WRITE_FORMS, ids=repr)
@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
@pytest.mark.parametrize("blocking", [True, False],
                         ids=["blocking", "nonblocking"])
def test_write_forms_send_the_clamped_slice(cpeer_pair, args, want, kind,
                                            blocking):
    s, peer = cpeer_pair
    s.setblocking(blocking)
    buf = kind(b"0123456789")
    assert s.write(buf, *args) == len(want)
    s.write(b"|")  # a marker, so that an empty write is seen as empty
    assert recv_exactly(peer, len(want) + 1) == want + b"|"


def test_write_slice_of_large_buffer_is_not_copied(cpeer_pair):
    import tracemalloc
    s, peer = cpeer_pair
    big = bytearray(8 << 20)
    tracemalloc.start()
    try:
        assert s.write(big, 1 << 20, 4) == 4
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 10, "the slice was copied: %d bytes" % peak
    assert recv_exactly(peer, 4) == b"\0" * 4


@pytest.mark.parametrize("args", [
    (1.0,), (None,), ("3",), (b"3",), (1, 2.5), (None, 2), (1, None),
], ids=repr)
def test_write_non_int_offset_or_length_is_typeerror(cpeer_pair, args):
    s, _ = cpeer_pair
    with pytest.raises(TypeError):
        s.write(b"abc", *args)


def test_write_too_many_arguments_is_typeerror(cpeer_pair):
    s, _ = cpeer_pair
    with pytest.raises(TypeError):
        s.write(b"abc", 0, 1, 2)
    with pytest.raises(TypeError):
        s.write()


def test_write_readonly_memoryview_and_array_count_bytes(cpeer_pair):
    import array
    s, peer = cpeer_pair
    assert s.write(array.array("i", [1, 2, 3]), 4, 4) == 4
    assert recv_exactly(peer, 4) == struct.pack("i", 2)


def test_write_on_closed_socket_with_forms_is_ebadf(cpeer_pair):
    s, _ = cpeer_pair
    s.close()
    with pytest.raises(OSError) as e:
        s.write(b"abc", 1, 1)
    assert e.value.errno == errno.EBADF


# ---- str as a buffer ----------------------------------------------------------

TEXT = "h\u00e9llo \u20ac \U0001f600"  # 2-, 3- and 4-byte UTF-8


def test_write_str_sends_utf8(cpeer_pair):
    s, peer = cpeer_pair
    data = TEXT.encode()
    assert s.write(TEXT) == len(data)
    assert recv_exactly(peer, len(data)) == data


def test_write_str_forms_count_utf8_bytes(cpeer_pair):
    s, peer = cpeer_pair
    # "é" is 2 bytes: offset 1 and max_len 2 take exactly its UTF-8 form.
    assert s.write(TEXT, 1, 2) == 2
    assert recv_exactly(peer, 2) == "\u00e9".encode()


@pytest.mark.parametrize("method", ["send", "sendall"])
def test_send_and_sendall_take_str(cpeer_pair, method):
    s, peer = cpeer_pair
    r = getattr(s, method)(TEXT)
    n = len(TEXT.encode())
    assert r == (n if method == "send" else None)
    assert recv_exactly(peer, n) == TEXT.encode()


def test_sendto_takes_str(udp_pair):
    a, b = udp_pair
    assert a.sendto(TEXT, b.getsockname()) == len(TEXT.encode())
    assert b.recvfrom(100)[0] == TEXT.encode()
    assert a.sendto("x", 0, b.getsockname()) == 1
    assert b.recvfrom(100)[0] == b"x"


def test_setsockopt_takes_str(us, track):
    s = track(us.socket(us.AF_INET, us.SOCK_STREAM))
    # struct linger {int l_onoff; int l_linger;}: 8 zero bytes, as text.
    s.setsockopt(us.SOL_SOCKET, us.SO_LINGER, "\0" * 8)
    assert s.getsockopt(us.SOL_SOCKET, us.SO_LINGER, 8) == b"\0" * 8
    s.setsockopt(us.SOL_SOCKET, us.SO_LINGER, "\x01\0\0\0\x05\0\0\0")
    assert s.getsockopt(us.SOL_SOCKET, us.SO_LINGER, 8) == \
        b"\x01\0\0\0\x05\0\0\0"
    with pytest.raises(TypeError):
        s.setsockopt(us.SOL_SOCKET, us.SO_LINGER, [0])


@pytest.mark.parametrize("method", ["write", "send", "sendall"])
def test_str_with_lone_surrogate_is_unicodeencodeerror(cpeer_pair, method):
    s, peer = cpeer_pair
    with pytest.raises(UnicodeEncodeError):
        getattr(s, method)("a\ud800b")
    s.write(b"|")
    assert peer.recv(10) == b"|", "nothing of the bad str was sent"


def test_empty_str_writes_nothing(cpeer_pair):
    s, peer = cpeer_pair
    assert s.write("") == 0
    assert s.send("") == 0


# ---- BufferedStream ---------------------------------------------------------------

@pytest.mark.parametrize("args,want", WRITE_FORMS, ids=repr)
def test_buffered_write_forms(cpeer_pair, args, want):
    s, peer = cpeer_pair
    f = s.makefile("wb", 64)
    assert f.write(b"0123456789", *args) == len(want)
    f.write(b"|")
    f.flush()
    assert recv_exactly(peer, len(want) + 1) == want + b"|"


def test_buffered_write_str_and_bad_forms(cpeer_pair):
    s, peer = cpeer_pair
    f = s.makefile("wb", 64)
    assert f.write(TEXT) == len(TEXT.encode())
    f.flush()
    assert recv_exactly(peer, len(TEXT.encode())) == TEXT.encode()
    with pytest.raises(TypeError):
        f.write(b"abc", 1.5)
    with pytest.raises(TypeError):
        f.write(b"abc", 0, 1, 2)


def test_buffered_readinto_nbytes(cpeer_pair):
    s, peer = cpeer_pair
    f = s.makefile("rb", 64)
    peer.sendall(b"abcdef")
    buf = bytearray(b"......")
    assert f.readinto(buf, 4) == 4
    assert buf == bytearray(b"abcd..")
    assert f.readinto(memoryview(buf)[4:], None) == 2
    assert buf == bytearray(b"abcdef")


@pytest.mark.parametrize("nbytes,exc", [
    (7, ValueError), (-1, ValueError), (1.0, TypeError), ("1", TypeError),
], ids=repr)
def test_buffered_readinto_bad_nbytes(cpeer_pair, nbytes, exc):
    s, _ = cpeer_pair
    f = s.makefile("rb", 64)
    with pytest.raises(exc):
        f.readinto(bytearray(6), nbytes)


def test_buffered_readinto_zero_reads_nothing(cpeer_pair):
    s, peer = cpeer_pair
    f = s.makefile("rb", 64)
    peer.sendall(b"xy")
    assert f.readinto(bytearray(4), 0) == 0
    assert f.read(2) == b"xy"


# ---- sockaddr(raw) and raw addresses --------------------------------------------

def raw_in4(host, port):
    return struct.pack("=H", socket.AF_INET) + struct.pack(">H", port) + \
        socket.inet_aton(host) + bytes(8)


def raw_in6(host, port, flowinfo=0, scope_id=0):
    return struct.pack("=H", socket.AF_INET6) + struct.pack(">HI", port,
                                                             flowinfo) + \
        socket.inet_pton(socket.AF_INET6, host) + struct.pack("=I", scope_id)


def test_sockaddr_decodes_raw_ipv4(us):
    assert us.sockaddr(raw_in4("1.2.3.4", 80)) == \
        (us.AF_INET, b"\x01\x02\x03\x04", 80)
    assert us.sockaddr(bytearray(raw_in4("127.0.0.1", 65535))) == \
        (us.AF_INET, b"\x7f\0\0\x01", 65535)


def test_sockaddr_decodes_raw_ipv6(us):
    want = (us.AF_INET6, socket.inet_pton(socket.AF_INET6, "fe80::1"), 443,
            0x12345, 7)
    assert us.sockaddr(raw_in6("fe80::1", 443, 0x12345, 7)) == want


def test_sockaddr_other_family_gives_family_and_data(us):
    raw = struct.pack("=H", socket.AF_UNIX) + b"/tmp/sock\0"
    assert us.sockaddr(raw) == (socket.AF_UNIX, b"/tmp/sock\0")


def test_sockaddr_of_a_sockaddr_object_decodes_it(us):
    a = us.getaddrinfo("127.0.0.1", 8080)[0][4]
    assert isinstance(a, us.sockaddr)
    assert us.sockaddr(a) == (us.AF_INET, b"\x7f\0\0\x01", 8080)
    a6 = us.getaddrinfo("::1", 1)[0][4]
    assert us.sockaddr(a6) == (us.AF_INET6, b"\0" * 15 + b"\x01", 1, 0, 0)


@pytest.mark.parametrize("raw", [b"", b"\x02", raw_in4("1.2.3.4", 1)[:15],
                                 raw_in6("::1", 1)[:27]], ids=repr)
def test_sockaddr_too_short_is_einval(us, raw):
    with pytest.raises(OSError) as e:
        us.sockaddr(raw)
    assert e.value.errno == errno.EINVAL


@pytest.mark.parametrize("arg", [5, None, [2, 0]], ids=repr)
def test_sockaddr_wrong_type_is_typeerror(us, arg):
    with pytest.raises(TypeError):
        us.sockaddr(arg)


def test_sockaddr_takes_str_as_utf8_as_micropython(us):
    # MicroPython reads a str's UTF-8 bytes wherever it takes a buffer.
    raw = struct.pack("=H", 0x61) + b"\xc3\xa9"
    assert us.sockaddr(raw.decode()) == (0x61, "\u00e9".encode())


def test_sockaddr_takes_one_argument(us):
    with pytest.raises(TypeError):
        us.sockaddr()
    with pytest.raises(TypeError):
        us.sockaddr(b"ab", b"cd")
    with pytest.raises(TypeError, match="keyword"):
        us.sockaddr(raw_in4("1.2.3.4", 80), x=1)


def test_connect_and_sendto_take_raw_addresses(us, track, listener,
                                               udp_pair):
    port = listener.getsockname()[1]
    c = track(us.socket())
    c.connect(raw_in4("127.0.0.1", port))
    assert c.getpeername() == ("127.0.0.1", port)
    a, b = udp_pair
    assert a.sendto(b"raw", bytearray(raw_in4("127.0.0.1",
                                              b.getsockname()[1]))) == 3
    assert b.recvfrom(10)[0] == b"raw"


def test_bind_takes_a_raw_address(us, track):
    s = track(us.socket(us.AF_INET, us.SOCK_DGRAM))
    s.bind(raw_in4("127.0.0.1", 0))
    assert s.getsockname()[0] == "127.0.0.1"


def test_raw_address_of_another_family_is_eafnosupport(us, track):
    s = track(us.socket())
    with pytest.raises(OSError) as e:
        s.connect(struct.pack("=H", socket.AF_UNIX) + b"/tmp/x\0")
    assert e.value.errno == errno.EAFNOSUPPORT
    with pytest.raises(OSError) as e:
        s.connect(b"\x02")
    assert e.value.errno == errno.EINVAL


def test_msg_dontroute_is_the_platforms(us):
    assert us.MSG_DONTROUTE == socket.MSG_DONTROUTE
