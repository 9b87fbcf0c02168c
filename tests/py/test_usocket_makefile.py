"""test_usocket_makefile.py: makefile() modes, buffering 0 (the socket
itself) and buffering > 0 (usocket.BufferedStream)."""
import errno
import socket
import threading
import time

import pytest

import usocket
from timing import late

GOOD_MODES = ["rb", "wb", "rwb", "r", "w", "rw"]


def send_in_thread(peer, data):
    def body():
        try:
            peer.sendall(data)
            peer.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t


def recv_all(peer):
    got = bytearray()
    while True:
        chunk = peer.recv(1 << 20)
        if not chunk:
            return bytes(got)
        got += chunk


@pytest.mark.parametrize("mode", GOOD_MODES)
def test_makefile_unbuffered_is_the_socket_itself(track, mode):
    s = track(usocket.socket())
    assert s.makefile(mode) is s
    assert s.makefile(mode, 0) is s


def test_makefile_default_is_the_socket_itself(track):
    s = track(usocket.socket())
    assert s.makefile() is s


@pytest.mark.parametrize("mode", ["rt", "wt", "a", "r+", "x", "", "U", "rbt", "b", "rwt"])
def test_makefile_text_or_other_modes_are_valueerror(track, mode):
    s = track(usocket.socket())
    with pytest.raises(ValueError):
        s.makefile(mode)
    with pytest.raises(ValueError):
        s.makefile(mode, 4096)


@pytest.mark.parametrize("args", [(1,), (b"rb",), ("rb", "x"), ("rb", 1.5)], ids=repr)
def test_makefile_wrong_types(track, args):
    s = track(usocket.socket())
    with pytest.raises(TypeError):
        s.makefile(*args)


def test_makefile_unbuffered_close_closes_the_socket(cpeer_pair):
    s, peer = cpeer_pair
    f = s.makefile("rwb")
    f.write(b"x")
    f.close()
    assert peer.recv(10) == b"x"
    assert peer.recv(10) == b""
    with pytest.raises(OSError) as e:
        s.send(b"y")
    assert e.value.errno == errno.EBADF


# ---- buffering > 0 --------------------------------------------------------------

@pytest.mark.parametrize("mode", GOOD_MODES)
def test_makefile_buffered_is_a_bufferedstream(cpeer_pair, mode):
    s, _ = cpeer_pair
    f = s.makefile(mode, 4096)
    assert isinstance(f, usocket.BufferedStream)
    for name in ("read", "readinto", "readline", "write", "flush", "close",
                 "fileno", "__iter__", "__enter__", "__exit__"):
        assert callable(getattr(f, name, None)), name
    assert f.fileno() == s.fileno()


def test_buffered_readline_many_lines(cpeer_pair):
    s, peer = cpeer_pair
    lines = [b"line %d %s\n" % (i, b"x" * (i % 50)) for i in range(20000)]
    t = send_in_thread(peer, b"".join(lines) + b"no newline")
    f = s.makefile("rb", 8192)
    for want in lines:
        assert f.readline() == want
    assert f.readline() == b"no newline"
    assert f.readline() == b""
    t.join(5)


def test_buffered_iteration_yields_lines(cpeer_pair):
    s, peer = cpeer_pair
    t = send_in_thread(peer, b"a\nbb\n\nccc")
    with s.makefile("rb", 64) as f:
        assert list(f) == [b"a\n", b"bb\n", b"\n", b"ccc"]
    t.join(5)


def test_buffered_read_after_readline_keeps_the_read_ahead(cpeer_pair):
    s, peer = cpeer_pair
    peer.sendall(b"head\nbody-bytes")
    peer.shutdown(socket.SHUT_WR)
    time.sleep(0.05)
    f = s.makefile("rb", 4096)
    assert f.readline() == b"head\n"
    assert f.read(4) == b"body"  # what it read ahead is still there
    assert f.read() == b"-bytes"
    assert f.read(10) == b""


def test_buffered_read_n_is_never_short_before_eof(cpeer_pair, later):
    s, peer = cpeer_pair
    f = s.makefile("rb", 16)
    peer.sendall(b"0123456789")
    later(0.1, peer.sendall, b"abcdefghij" * 10)
    assert f.read(100) == b"0123456789" + b"abcdefghij" * 9


def test_buffered_readinto(cpeer_pair):
    s, peer = cpeer_pair
    peer.sendall(b"abcdefgh")
    f = s.makefile("rb", 4)
    buf = bytearray(6)
    assert f.readinto(buf) == 6
    assert buf == b"abcdef"
    with pytest.raises(TypeError):
        f.readinto(b"read-only")


def test_buffered_write_reaches_the_peer_after_flush(cpeer_pair):
    s, peer = cpeer_pair
    f = s.makefile("wb", 4096)
    assert f.write(b"hello ") == 6
    assert f.write(bytearray(b"world")) == 5
    f.flush()
    assert peer.recv(100) == b"hello world"


def test_buffered_large_write(cpeer_pair):
    s, peer = cpeer_pair
    data = bytes(range(256)) * 8192  # 2 MiB
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("got", recv_all(peer)), daemon=True)
    t.start()
    f = s.makefile("wb", 8192)
    f.write(data)
    f.close()
    t.join(10)
    assert result["got"] == data


def test_buffered_close_flushes_and_closes_the_socket(cpeer_pair):
    s, peer = cpeer_pair
    f = s.makefile("rwb", 4096)
    f.write(b"pending")
    f.close()
    assert recv_all(peer) == b"pending"
    with pytest.raises(OSError) as e:
        s.recv(1)
    assert e.value.errno == errno.EBADF
    f.close()  # idempotent


def test_buffered_with_closes(cpeer_pair):
    s, peer = cpeer_pair
    with s.makefile("wb", 4096) as f:
        f.write(b"in with")
    assert recv_all(peer) == b"in with"
    with pytest.raises(OSError):
        s.getsockname()


def test_buffered_request_reply(cpeer_pair):
    s, peer = cpeer_pair
    f = s.makefile("rwb", 1024)
    f.write(b"PING\n")
    f.flush()
    assert peer.recv(10) == b"PING\n"
    peer.sendall(b"PONG\n")
    assert f.readline() == b"PONG\n"


def test_buffered_readline_timeout(cpeer_pair):
    s, _ = cpeer_pair
    s.settimeout(0.2)
    f = s.makefile("rb", 4096)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        f.readline()
    assert e.value.errno == errno.ETIMEDOUT
    assert 0.18 <= time.monotonic() - t0 < late(0.2)


def test_buffered_write_non_buffer_is_typeerror(cpeer_pair):
    s, _ = cpeer_pair
    f = s.makefile("wb", 64)
    for bad in (5, None, [1]):
        with pytest.raises(TypeError):
            f.write(bad)


def test_buffered_stream_over_a_closed_socket_is_ebadf(cpeer_pair):
    s, _ = cpeer_pair
    f = s.makefile("rwb", 64)
    s.close()
    for call in (lambda: f.read(1), lambda: f.readline(),
                 lambda: (f.write(b"x"), f.flush())):
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno == errno.EBADF
