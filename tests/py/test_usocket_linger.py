"""test_usocket_linger.py: a close that lingers lets other threads run.

With SO_LINGER on and bytes the peer has not taken, close(2) blocks for the
linger time. CPython's socket releases the interpreter lock around it; so
must usocket, whether the close is the caller's own or the deferred one that
the last call still using the socket makes as it leaves.
"""
import struct
import threading
import time

import pytest

import usocket

LINGER_S = 2  # a close blocks this long; a frozen thread misses all of it


def _stuffed_pair(listener_linger=False):
    """A connected pair whose client has bytes queued that the server never
    reads, and SO_LINGER set to LINGER_S (on the listener, to be inherited
    by the accepted socket, when listener_linger)."""
    linger = struct.pack("ii", 1, LINGER_S)
    lst = usocket.socket()
    lst.bind(("127.0.0.1", 0))
    if listener_linger:
        lst.setsockopt(usocket.SOL_SOCKET, usocket.SO_LINGER, linger)
    lst.listen(1)
    other = usocket.socket()
    other.connect(lst.getsockname())
    acc, _ = lst.accept()
    lst.close()
    # The accepted socket sends, unless it is the client that lingers.
    sender, quiet = (acc, other) if listener_linger else (other, acc)
    if not listener_linger:
        sender.setsockopt(usocket.SOL_SOCKET, usocket.SO_LINGER, linger)
    sender.setblocking(False)
    chunk = b"x" * 65536
    for _ in range(1000):  # a few MB fill both socket buffers on loopback
        try:
            sender.send(chunk)
        except OSError:
            break
    else:
        pytest.fail("the peer's buffers never filled")
    sender.setblocking(True)
    return sender, quiet


class Ticker:
    """Another Python thread that notes the time every few milliseconds."""

    def __init__(self):
        self.ticks, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        while not self.ticks:
            time.sleep(0.001)

    def run(self):
        while not self.stop.is_set():
            self.ticks.append(time.monotonic())
            time.sleep(0.005)

    def worst_gap(self, t0, t1):
        """The longest stretch of [t0, t1] without a tick."""
        self.stop.set()
        self.thread.join(5)
        inside = [t for t in self.ticks if t0 <= t <= t1]
        marks = [t0] + inside + [t1]
        return max(b - a for a, b in zip(marks, marks[1:]))


def _check(elapsed, gap):
    # The close did linger (else the test proves nothing) ...
    assert elapsed >= LINGER_S * 0.8, "close did not linger: %.2f s" % elapsed
    # ... and the other thread ran all along, not only once it ended.
    assert gap < LINGER_S / 2, "other threads froze for %.2f s of a %.2f s close" % (
        gap, elapsed)


def test_lingering_close_lets_other_threads_run():
    sender, quiet = _stuffed_pair()
    try:
        ticker = Ticker()
        t0 = time.monotonic()
        sender.close()
        t1 = time.monotonic()
        _check(t1 - t0, ticker.worst_gap(t0, t1))
    finally:
        quiet.close()


def test_lingering_close_of_an_accepted_socket_lets_other_threads_run():
    # The accepted socket inherits SO_LINGER from its listener.
    sender, quiet = _stuffed_pair(listener_linger=True)
    try:
        ticker = Ticker()
        t0 = time.monotonic()
        sender.close()
        t1 = time.monotonic()
        _check(t1 - t0, ticker.worst_gap(t0, t1))
    finally:
        quiet.close()


def test_deferred_lingering_close_lets_other_threads_run():
    # A thread blocked in recv keeps the socket in use: close() only wakes
    # it, and the real (lingering) close is made by that thread as it
    # leaves, while this one goes on.
    sender, quiet = _stuffed_pair()
    try:
        left = []

        def reader():
            try:
                sender.recv(10)
            except OSError:
                pass
            left.append(time.monotonic())

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        time.sleep(0.2)  # the reader is blocked in recv
        ticker = Ticker()
        t0 = time.monotonic()
        sender.close()
        th.join(LINGER_S + 10)
        t1 = time.monotonic()
        assert not th.is_alive()
        _check(left[0] - t0, ticker.worst_gap(t0, t1))
    finally:
        quiet.close()
