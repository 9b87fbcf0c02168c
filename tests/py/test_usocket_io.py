"""test_usocket_io.py: single-call I/O: send, recv, sendall (deadline,
characters_written), sendto and recvfrom."""
import errno
import os
import select
import socket
import struct
import sys
import threading
import time
import tracemalloc

import pytest

import usocket
from timing import late


def wait_readable(sock, timeout=2):
    assert select.select([sock], [], [], timeout)[0], "no data arrived"


def drain_until_eof(peer):
    got = bytearray()
    while True:
        chunk = peer.recv(1 << 20)
        if not chunk:
            return bytes(got)
        got += chunk


# ---- send / recv ------------------------------------------------------------

def test_send_returns_the_count_and_recv_gets_it(cpeer_pair):
    s, peer = cpeer_pair
    assert s.send(b"hello") == 5
    assert peer.recv(10) == b"hello"
    peer.sendall(b"world")
    assert s.recv(10) == b"world"


@pytest.mark.parametrize("data", [bytearray(b"abc"), memoryview(b"xabcx")[1:4]],
                         ids=["bytearray", "memoryview"])
def test_send_takes_bytes_like(cpeer_pair, data):
    s, peer = cpeer_pair
    assert s.send(data) == 3
    assert peer.recv(10) == b"abc"


@pytest.mark.parametrize("method", ["send", "sendall"])
@pytest.mark.parametrize("data", [3, None, [1]], ids=repr)
def test_send_non_buffer_is_typeerror(cpeer_pair, method, data):
    s, _ = cpeer_pair
    with pytest.raises(TypeError):
        getattr(s, method)(data)


def test_send_counts_bytes_of_multibyte_buffers(cpeer_pair):
    import array
    s, peer = cpeer_pair
    assert s.send(array.array("i", [1, 2])) == 8
    assert len(peer.recv(100)) == 8


@pytest.mark.parametrize("method", ["send", "sendall", "write"])
def test_non_contiguous_buffer_is_refused(cpeer_pair, method):
    s, peer = cpeer_pair
    with pytest.raises((BufferError, TypeError, ValueError)):
        getattr(s, method)(memoryview(b"abcdef")[::2])
    s.send(b"!")
    assert peer.recv(10) == b"!"  # nothing of the refused buffer went


def test_send_may_be_short_on_a_huge_buffer(cpeer_pair):
    # One send takes what fits and returns its count at once; it does not
    # wait (up to the timeout) for room for the rest.
    s, peer = cpeer_pair
    s.settimeout(2)
    big = b"x" * (64 << 20)
    t0 = time.monotonic()
    n = s.send(big)
    assert time.monotonic() - t0 < late(0.5)
    assert 0 < n < len(big)


def test_recv_returns_at_most_bufsize(cpeer_pair):
    s, peer = cpeer_pair
    peer.sendall(b"abcdefgh")
    wait_readable(s)
    time.sleep(0.02)
    assert s.recv(3) == b"abc"
    assert s.recv(100) == b"defgh"


def test_recv_is_empty_at_eof(cpeer_pair):
    s, peer = cpeer_pair
    peer.close()
    assert s.recv(10) == b""
    assert s.recv(10) == b""


@pytest.mark.parametrize("timeout", [None, 2.0], ids=["blocking", "timed"])
def test_recv_zero_returns_empty_at_once(cpeer_pair, later, timeout):
    # As CPython: recv(0) does not wait for data it would not take.
    s, peer = cpeer_pair
    s.settimeout(timeout)
    later(1.0, peer.sendall, b"x")  # unblocks a recv(0) that waits wrongly
    t0 = time.monotonic()
    assert s.recv(0) == b""
    assert time.monotonic() - t0 < late(0)


@pytest.mark.parametrize("size", [-1, -2**31, -2**70])
def test_recv_negative_is_valueerror(cpeer_pair, size):
    s, peer = cpeer_pair
    peer.sendall(b"x")
    with pytest.raises((ValueError, OverflowError)) as e:
        s.recv(size)
    if size == -1:
        assert e.type is ValueError


@pytest.mark.parametrize("size", ["10", 1.5, None])
def test_recv_wrong_type(cpeer_pair, size):
    s, _ = cpeer_pair
    with pytest.raises(TypeError):
        s.recv(size)


_HUGE_RECV = """
import sys, time, tracemalloc, usocket
srv = usocket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()
a = usocket.socket(); a.connect(srv.getsockname()); b, _ = srv.accept()
a.sendall(b"12345")
time.sleep(0.05)
tracemalloc.start()
data = b.recv(int(sys.argv[1]))
peak = tracemalloc.get_traced_memory()[1]
print(data == b"12345", peak)
"""


@pytest.mark.parametrize("size", [2**31, sys.maxsize])
def test_recv_huge_bufsize_allocates_only_what_arrives(size):
    # In a process of its own: tracemalloc counts every thread's
    # allocations, and a thread another test left winding down may
    # allocate meanwhile.
    import subprocess
    r = subprocess.run([sys.executable, "-c", _HUGE_RECV, str(size)],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    same, peak = r.stdout.split()
    assert same == "True"
    assert int(peak) < 1 << 20, f"recv({size}) allocated {peak} bytes for 5"


def test_recv_non_blocking_nothing_is_blockingioerror(cpeer_pair):
    s, _ = cpeer_pair
    s.setblocking(False)
    with pytest.raises(BlockingIOError) as e:
        s.recv(10)
    assert e.value.errno in (errno.EAGAIN, errno.EWOULDBLOCK)


def test_recv_timeout_is_timeouterror(cpeer_pair):
    s, _ = cpeer_pair
    s.settimeout(0.2)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        s.recv(10)
    assert e.value.errno == errno.ETIMEDOUT
    assert 0.18 <= time.monotonic() - t0 < late(0.2)


def test_recv_after_reset_is_connectionreseterror(cpeer_pair):
    s, peer = cpeer_pair
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()
    wait_readable(s)
    with pytest.raises(ConnectionResetError) as e:
        s.recv(10)
    assert e.value.errno == errno.ECONNRESET


# ---- sendall ------------------------------------------------------------------

def test_sendall_sends_everything(cpeer_pair):
    s, peer = cpeer_pair
    data = os.urandom(1 << 16) * 128  # 8 MiB
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("got", drain_until_eof(peer)),
                         daemon=True)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(10)
    assert result["got"] == data


def test_sendall_timeout_is_a_deadline_for_the_whole_call(cpeer_pair):
    s, peer = cpeer_pair
    s.settimeout(0.2)
    big = b"x" * (64 << 20)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        s.sendall(big)
    elapsed = time.monotonic() - t0
    assert e.value.errno == errno.ETIMEDOUT
    assert 0.18 <= elapsed < late(0.2)
    written = e.value.characters_written
    assert 0 < written < len(big)
    s.shutdown(socket.SHUT_WR)
    assert len(drain_until_eof(peer)) == written  # nothing lost, nothing extra


def test_sendall_deadline_holds_while_the_peer_reads_slowly(cpeer_pair):
    """A peer that frees a little room now and then must not restart the
    timeout for each chunk: the whole call ends near its deadline."""
    s, peer = cpeer_pair
    s.settimeout(0.3)
    stop = threading.Event()

    def slow_reader():
        end = time.monotonic() + 2  # then a per-chunk timeout expires too
        while not stop.is_set() and time.monotonic() < end:
            try:
                peer.recv(16384)
            except OSError:
                return
            time.sleep(0.02)

    big = b"x" * (64 << 20)  # made before the clock starts
    t = threading.Thread(target=slow_reader, daemon=True)
    t.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            s.sendall(big)
        elapsed = time.monotonic() - t0
    finally:
        stop.set()
        t.join(5)
    # A timeout restarted for each chunk would last until the reader stops,
    # 2 s and more.
    assert 0.28 <= elapsed < min(late(0.3), 1.5)


def test_sendall_non_blocking_raises_eagain_with_characters_written(cpeer_pair):
    s, peer = cpeer_pair
    s.setblocking(False)
    big = b"x" * (64 << 20)
    with pytest.raises(BlockingIOError) as e:
        s.sendall(big)
    assert e.value.errno in (errno.EAGAIN, errno.EWOULDBLOCK)
    written = e.value.characters_written
    assert 0 < written < len(big)
    s.setblocking(True)
    s.shutdown(socket.SHUT_WR)
    assert len(drain_until_eof(peer)) == written


def test_sendall_to_a_reset_peer_is_an_oserror(cpeer_pair):
    s, peer = cpeer_pair
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()
    time.sleep(0.05)
    with pytest.raises(OSError) as e:
        for _ in range(10):
            s.sendall(b"x" * 65536)
    assert e.value.errno in (errno.EPIPE, errno.ECONNRESET)


# ---- sendto / recvfrom ----------------------------------------------------------

def test_sendto_recvfrom_roundtrip(udp_pair):
    a, b = udp_pair
    assert a.sendto(b"datagram", b.getsockname()) == 8
    data, addr = b.recvfrom(100)
    assert data == b"datagram"
    assert addr == a.getsockname()


def test_recvfrom_truncates_to_bufsize(udp_pair):
    a, b = udp_pair
    a.sendto(b"0123456789", b.getsockname())
    data, _ = b.recvfrom(4)
    assert data == b"0123"
    a.sendto(b"next", b.getsockname())
    assert b.recvfrom(100)[0] == b"next"  # the rest of the first is gone


def test_empty_datagram(udp_pair):
    a, b = udp_pair
    assert a.sendto(b"", b.getsockname()) == 0
    b.settimeout(2)
    assert b.recvfrom(10) == (b"", a.getsockname())


def test_recvfrom_huge_bufsize_allocates_only_what_arrives(udp_pair):
    a, b = udp_pair
    a.sendto(b"small", b.getsockname())
    wait_readable(b)
    tracemalloc.start()
    try:
        data, _ = b.recvfrom(2**31)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data == b"small"
    assert peak < 1 << 20


def test_recvfrom_negative_is_valueerror(udp_pair):
    with pytest.raises(ValueError):
        udp_pair[0].recvfrom(-1)


def test_recvfrom_timeout_is_timeouterror(udp_pair):
    _, b = udp_pair
    b.settimeout(0.2)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        b.recvfrom(10)
    assert e.value.errno == errno.ETIMEDOUT
    assert 0.18 <= time.monotonic() - t0 < late(0.2)


def test_recvfrom_non_blocking_nothing_is_blockingioerror(udp_pair):
    _, b = udp_pair
    b.setblocking(False)
    with pytest.raises(BlockingIOError):
        b.recvfrom(10)


def test_sendto_oversized_datagram_is_emsgsize(udp_pair):
    a, b = udp_pair
    with pytest.raises(OSError) as e:
        a.sendto(b"x" * 70000, b.getsockname())
    assert e.value.errno == errno.EMSGSIZE


@pytest.mark.parametrize("args", [
    (3, ("127.0.0.1", 9)), (b"x", "127.0.0.1"), (b"x", None), (b"x",),
], ids=repr)
def test_sendto_wrong_types(udp_pair, args):
    with pytest.raises(TypeError):
        udp_pair[0].sendto(*args)


def test_sendto_takes_bytes_like(udp_pair):
    a, b = udp_pair
    assert a.sendto(memoryview(b"..mv..")[2:4], b.getsockname()) == 2
    assert b.recvfrom(10)[0] == b"mv"


def test_connected_udp_send_and_recv(udp_pair):
    a, b = udp_pair
    a.connect(b.getsockname())
    b.connect(a.getsockname())
    assert a.send(b"one") == 3
    assert b.recv(10) == b"one"
    assert a.getpeername() == b.getsockname()


def test_ipv6_udp_roundtrip(track):
    from conftest import ipv6_loopback_available
    if not ipv6_loopback_available():
        pytest.skip("IPv6 loopback ::1 is not available")
    a = track(usocket.socket(usocket.AF_INET6, usocket.SOCK_DGRAM))
    b = track(usocket.socket(usocket.AF_INET6, usocket.SOCK_DGRAM))
    b.bind(("::1", 0))
    a.sendto(b"six", b.getsockname())
    data, addr = b.recvfrom(10)
    assert data == b"six"
    assert len(addr) == 4 and addr[0] == "::1"
