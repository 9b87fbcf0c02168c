"""test_usocket_stream_longline.py: a buffered stream's readline of a line
far longer than its buffer.

makefile('rb', 1) has a one-byte buffer: a line of megabytes must still be
read in large pieces, not one system call (and one growth of the result)
per byte, and never a byte past its newline lost.
"""
import socket
import threading
import time

import pytest

import usocket

LONG = 4 << 20


def _feed(peer, data):
    def body():
        try:
            peer.sendall(data)
            peer.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t


def _timed_read(usock, data, n):
    """Time (s) to read n bytes of data through usock's own read."""
    t0 = time.monotonic()
    assert usock.read(n) == data
    return time.monotonic() - t0


@pytest.mark.parametrize("bufsize", [1, 7])
def test_long_line_through_a_tiny_buffer_is_read_in_large_pieces(cpeer_pair,
                                                                 bufsize):
    usock, peer = cpeer_pair
    line = b"y" * LONG + b"\n"
    # The reference: the same bytes through the socket's own read, on the
    # same machine at the same moment.
    feeder = _feed(peer, line + line + b"tail\n")
    ref = _timed_read(usock, line, len(line))
    f = usock.makefile("rb", bufsize)
    t0 = time.monotonic()
    got = f.readline()
    elapsed = time.monotonic() - t0
    feeder.join(10)
    assert got == line
    assert f.readline() == b"tail\n"
    assert f.readline() == b""
    # One system call per byte took seconds (over 4 million of them);
    # large pieces cost a few times the plain read at most.
    assert elapsed < 10 * ref + 1.0, "readline %.2f s, plain read %.3f s" % (
        elapsed, ref)


@pytest.mark.parametrize("bufsize", [1, 7, 256, 4096])
def test_lines_of_every_length_come_whole_and_in_order(cpeer_pair, bufsize):
    usock, peer = cpeer_pair
    lengths = [0, 1, 5, 6, 7, 8, 255, 256, 257, 4095, 4096, 4097, 70000, 300000,
               3, 0]
    lines = [bytes([65 + i % 26]) * n + b"\n" for i, n in enumerate(lengths)]
    feeder = _feed(peer, b"".join(lines) + b"no newline")
    f = usock.makefile("rb", bufsize)
    for want in lines:
        assert f.readline() == want
    assert f.readline() == b"no newline"
    assert f.readline() == b""
    feeder.join(10)


def test_long_line_within_max_stops_at_max_and_keeps_the_rest(cpeer_pair):
    usock, peer = cpeer_pair
    feeder = _feed(peer, b"z" * 100000 + b"\nnext\n")
    f = usock.makefile("rb", 1)
    assert f.readline(70000) == b"z" * 70000
    assert f.readline() == b"z" * 30000 + b"\n"
    assert f.readline() == b"next\n"
    feeder.join(10)


def test_long_line_on_a_timed_stream_times_out_with_what_came(cpeer_pair):
    usock, peer = cpeer_pair
    usock.settimeout(0.2)
    peer.sendall(b"q" * 200000)  # no newline, and nothing more comes
    f = usock.makefile("rb", 1)
    got = f.readline()
    # A timeout after bytes returns them (the line so far), as a short read.
    assert got == b"q" * 200000
    peer.sendall(b"end\n")
    assert f.readline() == b"end\n"
