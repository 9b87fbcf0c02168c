"""test_reliability_hostile.py: hostile input and hostile concurrency.

What the other files leave out: sizes near SSIZE_MAX and negative ones
while a call waits (nothing allocated before data arrives), absurd backlogs
and option lengths, buffers that another thread tries to resize or release
while a call holds them, and a socket closed under calls blocked on it in
other threads (each returns promptly, and its descriptor number is never
reused while one of them is still inside the core; the ASan run checks for
use after free). Each case must end in a clear exception or the right
bytes, never a crash or a hang.
"""
import array
import errno
import faulthandler
import mmap
import os
import random
import signal
import socket
import sys
import threading
import time
import tracemalloc

import pytest

import usocket
import uselect
from reliability_figures import RUN

UNDER_ASAN = RUN == "asan"
BLOCK_SETTLE = 0.2  # time for a call started in a thread to block


# The futex system call, which a thread waiting for the interpreter's lock
# sleeps in: x86-64's and arm64's numbers (other machines just wait).
_FUTEX = {"x86_64": 202, "aarch64": 98}.get(os.uname().machine)


def in_call_wait(tid, limit):
    """Waits up to `limit` s until thread `tid` sleeps in a system call other
    than futex; returns whether it did."""
    end = time.monotonic() + limit
    while _FUTEX is not None and time.monotonic() < end:
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/self/task/{tid}/syscall") as f:
                call = f.read().split()[0]
        except (OSError, IndexError):
            return False  # the thread ended
        if state == "S" and call.lstrip("-").isdigit() and int(call) != _FUTEX:
            return True
        time.sleep(0.005)
    return False


class Blocked(threading.Thread):
    """Runs fn() in a thread, which the test expects to block; outcome()
    is its result or the exception it raised, and when it ended."""

    def __init__(self, fn, in_kernel=True):
        super().__init__(daemon=True)
        self.fn = fn
        self.result = self.error = self.ended = None
        self.start()
        time.sleep(BLOCK_SETTLE)
        # On a busy machine the thread may not have reached the call yet:
        # wait (bounded) until the kernel has it asleep in a system call
        # that is not the interpreter lock's futex.
        # (in_kernel=False: the call queues behind another thread's on the
        # socket's lock, a futex too.)
        if in_kernel:
            in_call_wait(self.native_id, BLOCK_SETTLE * 25)
        assert self.is_alive(), f"the call did not block: {self.result!r} {self.error!r}"

    def run(self):
        try:
            self.result = self.fn()
        except BaseException as e:  # handed to the test
            self.error = e
        finally:
            self.ended = time.monotonic()

    def outcome(self, timeout=5):
        self.join(timeout)
        assert not self.is_alive(), f"the call still blocks {timeout} s later"
        return self.error if self.error is not None else self.result


def traced_peak(fn):
    """(fn(), the peak of memory traced while it ran)."""
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---- huge sizes: nothing allocated before the data ------------------------------------

@pytest.mark.parametrize("name", [
    "recv-2**31", "recv-maxsize", "read-2**31", "read-maxsize", "buffered-read-maxsize",
])
def test_huge_size_allocates_nothing_while_waiting_for_data(cpeer_pair, later, name):
    s, peer = cpeer_pair
    s.settimeout(5)
    stream = s.makefile("rb", 4096)
    call = {
        "recv-2**31": lambda: s.recv(2**31),
        "recv-maxsize": lambda: s.recv(sys.maxsize),
        "read-2**31": lambda: s.read(2**31),
        "read-maxsize": lambda: s.read(sys.maxsize),
        "buffered-read-maxsize": lambda: stream.read(sys.maxsize),
    }[name]

    def feed():  # a few bytes, then EOF (read(n) waits for n or EOF)
        peer.sendall(b"12345")
        peer.shutdown(socket.SHUT_WR)

    later(0.3, feed)
    t0 = time.monotonic()
    data, peak = traced_peak(call)
    waited = time.monotonic() - t0
    assert data == b"12345"
    assert waited >= 0.25, "the call did not wait for the data"
    assert peak < 1 << 20, f"{name} allocated {peak} bytes for 5"


def test_recvfrom_huge_size_allocates_nothing_while_waiting(udp_pair, later):
    a, b = udp_pair
    b.settimeout(5)
    later(0.3, a.sendto, b"12345", b.getsockname())
    (data, addr), peak = traced_peak(lambda: b.recvfrom(sys.maxsize))
    assert data == b"12345" and addr == a.getsockname()
    assert peak < 1 << 20, f"recvfrom(sys.maxsize) allocated {peak} bytes for 5"


@pytest.mark.parametrize("name", ["recv", "read"])
def test_huge_size_that_times_out_allocates_nothing(cpeer_pair, name):
    s, _ = cpeer_pair
    s.settimeout(0.3)
    call = s.recv if name == "recv" else s.read
    for size in (2**31, sys.maxsize):
        t0 = time.monotonic()
        _, peak = traced_peak(lambda: pytest.raises(TimeoutError, call, size))
        assert 0.25 <= time.monotonic() - t0 < 1.0
        assert peak < 1 << 20, f"a timed-out {name}({size}) allocated {peak} bytes"


# ---- sizes near SSIZE_MAX and below zero ------------------------------------------------

@pytest.mark.parametrize("method", ["readinto", "recv_into"])
@pytest.mark.parametrize("nbytes", [sys.maxsize, sys.maxsize + 1, 2**64, -1, -sys.maxsize - 1])
def test_into_calls_refuse_nbytes_outside_the_buffer(cpeer_pair, method, nbytes):
    s, peer = cpeer_pair
    peer.sendall(b"data")
    with pytest.raises((ValueError, OverflowError)) as e:
        getattr(s, method)(bytearray(4), nbytes)
    if -sys.maxsize - 1 <= nbytes <= sys.maxsize:
        assert e.type is ValueError  # documented: nbytes > len(buf) or < 0
    s.settimeout(2)
    assert s.read(4) == b"data"  # nothing was consumed


@pytest.mark.parametrize("size", [-2, -sys.maxsize - 1])
def test_read_with_any_negative_size_reads_to_eof(cpeer_pair, size):
    s, peer = cpeer_pair
    peer.sendall(b"all of it")
    peer.close()
    s.settimeout(2)
    assert s.read(size) == b"all of it"


@pytest.mark.parametrize("size", [sys.maxsize + 1, 2**64, 2**200])
def test_sizes_beyond_ssize_max_mean_as_much_as_there_is(cpeer_pair, size):
    """Clamped to SSIZE_MAX (python/usocket_io.c), like any huge size."""
    s, peer = cpeer_pair
    s.settimeout(2)
    peer.sendall(b"x")
    assert s.recv(size) == b"x"
    peer.sendall(b"yz")
    peer.close()
    assert s.read(size) == b"yz"


# ---- backlogs and options ---------------------------------------------------------------

@pytest.mark.parametrize("backlog", [2**31, 2**63, -2**31 - 1, 2**100])
def test_listen_backlog_beyond_int_is_overflowerror(track, backlog):
    lsn = track(usocket.socket())
    lsn.bind(("127.0.0.1", 0))
    with pytest.raises(OverflowError):
        lsn.listen(backlog)


def test_listen_a_million_is_fine_and_accepts(track):
    lsn = track(usocket.socket())
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(10**6)  # the kernel caps it at somaxconn
    lsn.settimeout(2)
    c = track(usocket.socket())
    c.connect(lsn.getsockname())
    conn, addr = lsn.accept()
    track(conn)
    assert addr == c.getsockname()


@pytest.mark.parametrize("buflen", [1025, 10**9, 2**31, 2**63, 2**100])
def test_getsockopt_huge_buflen_is_a_clear_error(track, buflen):
    s = track(usocket.socket())
    with pytest.raises((OverflowError, ValueError, OSError)):
        s.getsockopt(usocket.SOL_SOCKET, usocket.SO_RCVBUF, buflen)
    assert s.getsockopt(usocket.SOL_SOCKET, usocket.SO_RCVBUF) > 0


@pytest.mark.parametrize("buflen", [-1, -2**31])
def test_getsockopt_negative_buflen_is_a_clear_error(track, buflen):
    s = track(usocket.socket())
    with pytest.raises((OSError, ValueError, OverflowError)):
        s.getsockopt(usocket.SOL_SOCKET, usocket.SO_RCVBUF, buflen)


def test_setsockopt_value_longer_than_socklen_t_is_refused(track):
    s = track(usocket.socket())
    huge = mmap.mmap(-1, 2**32 + 4)  # address space only: never touched
    try:
        with pytest.raises((OverflowError, ValueError, OSError)):
            s.setsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR, huge)
    finally:
        huge.close()


@pytest.mark.parametrize("buffering", [(16 << 20) + 1, 2**62, sys.maxsize])
def test_makefile_absurd_buffering_is_a_clear_error(cpeer_pair, buffering):
    s, _ = cpeer_pair
    with pytest.raises((MemoryError, ValueError, OverflowError)):
        s.makefile("rb", buffering)
    assert s.makefile("rb", 4096).fileno() == s.fileno()


# ---- buffers held by a blocked call -------------------------------------------------

def payload(n, seed=3):
    return random.Random(seed).randbytes(n)


def resizes(buf):
    """Each way to change a bytearray's size."""
    return [lambda: buf.extend(b"x"), lambda: buf.append(0), buf.pop,
            lambda: buf.__delitem__(slice(0, 8)), lambda: buf.__setitem__(slice(0, 4), b""),
            lambda: buf.__iadd__(b"yy")]


@pytest.mark.parametrize("method", ["readinto", "recv_into", "buffered-readinto"])
def test_bytearray_in_a_blocked_read_cannot_be_resized(cpeer_pair, method):
    s, peer = cpeer_pair
    s.settimeout(5)
    buf = bytearray(64)
    stream = s.makefile("rb", 4096)
    call = {"readinto": lambda: s.readinto(buf), "recv_into": lambda: s.recv_into(buf),
            "buffered-readinto": lambda: stream.readinto(buf)}[method]
    blocked = Blocked(call)
    for resize in resizes(buf):
        with pytest.raises(BufferError):
            resize()
    assert len(buf) == 64
    data = payload(64)
    peer.sendall(data)
    n = blocked.outcome()
    assert isinstance(n, int) and 0 < n <= 64, n
    assert buf[:n] == data[:n]
    if method != "recv_into":  # stream reads fill the whole buffer
        assert n == 64
    buf.extend(b"x")  # released once the call is over
    assert len(buf) == 65


def test_array_in_a_blocked_readinto_cannot_be_resized(cpeer_pair):
    s, peer = cpeer_pair
    s.settimeout(5)
    arr = array.array("B", bytes(16))
    blocked = Blocked(lambda: s.readinto(arr))
    with pytest.raises(BufferError):
        arr.append(1)
    with pytest.raises(BufferError):
        arr.pop()
    peer.sendall(bytes(range(16)))
    assert blocked.outcome() == 16
    assert arr.tobytes() == bytes(range(16))
    arr.append(1)


@pytest.mark.parametrize("method", ["readinto", "recv_into"])
def test_memoryview_in_a_blocked_read_cannot_be_released(cpeer_pair, method):
    s, peer = cpeer_pair
    s.settimeout(5)
    view = memoryview(bytearray(64))
    blocked = Blocked(lambda: getattr(s, method)(view))
    with pytest.raises(BufferError):
        view.release()
    data = payload(64)
    peer.sendall(data)
    n = blocked.outcome()
    assert isinstance(n, int) and 0 < n <= 64, n
    assert bytes(view[:n]) == data[:n]
    view.release()  # fine once the call is over
    with pytest.raises(ValueError):
        len(view)


@pytest.mark.parametrize("method", ["sendall", "write"])
def test_bytearray_in_a_blocked_send_cannot_be_resized_and_goes_unchanged(cpeer_pair, method):
    """The peer reads nothing at first, so the call blocks holding the
    buffer; the bytes that arrive are the ones given, all of them."""
    s, peer = cpeer_pair
    s.settimeout(10)
    data = bytearray(payload(32 << 20))
    original = bytes(data)
    blocked = Blocked(lambda: getattr(s, method)(data))
    for resize in resizes(data):
        with pytest.raises(BufferError):
            resize()
    got = bytearray()
    for _ in range(10000):  # bounded: 32 MiB in pieces of up to 1 MiB
        chunk = peer.recv(1 << 20)
        assert chunk, "EOF before everything arrived"
        got += chunk
        if len(got) >= len(original):
            break
    result = blocked.outcome()
    assert result == (None if method == "sendall" else len(original))
    assert got == original


# ---- close under a blocked call ---------------------------------------------------------

def _connect_blocker(request, track):
    addr, _ = request.getfixturevalue("full_listener")
    s = track(usocket.socket())
    return s, lambda: s.connect(addr)


def blocked_call(name, request, track):
    """(socket, the call that blocks on it, what to close) for each case."""
    if name == "accept":
        lsn = request.getfixturevalue("listener")
        return lsn, lsn.accept, lsn
    if name == "recvfrom":
        u = track(usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM))
        u.bind(("127.0.0.1", 0))
        return u, lambda: u.recvfrom(100), u
    if name == "connect":
        s, call = _connect_blocker(request, track)
        return s, call, s
    s, peer = request.getfixturevalue("cpeer_pair")
    big = b"z" * (64 << 20)  # more than the kernel buffers: the peer reads nothing
    if name.startswith("buffered"):
        stream = s.makefile("rb", 4096)
        return s, stream.readline, (stream if name == "buffered-close-stream" else s)
    call = {
        "recv": lambda: s.recv(10), "recv_into": lambda: s.recv_into(bytearray(10)),
        "read": lambda: s.read(10), "readinto": lambda: s.readinto(bytearray(10)),
        "readline": s.readline, "sendall": lambda: s.sendall(big), "write": lambda: s.write(big),
    }[name]
    return s, call, s


CLOSE_CASES = ["recv", "recv_into", "read", "readinto", "readline", "recvfrom", "accept",
               "sendall", "write", "connect", "buffered-readline", "buffered-close-stream"]


def close_case_params():
    for name in CLOSE_CASES:
        for timeout in (None, 3.0):
            yield pytest.param(name, timeout,
                               id=f"{name}-{'blocking' if timeout is None else 'timed'}")


@pytest.mark.parametrize("name,timeout", close_case_params())
def test_close_under_a_blocked_call_is_ebadf_and_reuses_no_fd(request, track, name, timeout):
    s, call, closer = blocked_call(name, request, track)
    s.settimeout(timeout)
    blocked = Blocked(call)
    fd = s.fileno()
    t0 = time.monotonic()
    closer.close()
    # The blocked call has not left the core yet (it needs the interpreter
    # lock, held here): its descriptor must stay taken, so that new sockets
    # get other numbers.
    fresh = [track(usocket.socket()) for _ in range(4)]
    assert fd not in [f.fileno() for f in fresh], "a new socket got the number of one in use"
    err = blocked.outcome()
    assert blocked.ended - t0 < 1.0, f"the blocked call took {blocked.ended - t0:.2f} s to end"
    if name == "write" and isinstance(err, int):
        # A stream write that got some bytes out returns their count, and
        # the next call reports the error (docs/python-api.md).
        assert 0 < err < 64 << 20
        with pytest.raises(OSError) as e:
            s.write(b"x")
        err = e.value
    assert isinstance(err, OSError), f"the blocked call gave {err!r}"
    assert err.errno == errno.EBADF, err
    # The last one out closed it for real.
    with pytest.raises(OSError) as e:
        os.fstat(fd)
    assert e.value.errno == errno.EBADF


@pytest.mark.parametrize("how", ["poll", "ipoll"])
def test_close_under_a_blocked_uselect_poll_reports_pollnval(us, track, tcp_pair, how):
    """The poll object holds the socket: closing it wakes a poll waiting in
    another thread with POLLNVAL, and its number stays taken until
    unregister (docs/python-api.md, uselect)."""
    cli, srv = tcp_pair
    poller = uselect.poll()
    poller.register(srv, uselect.POLLIN)
    wait = (lambda: poller.poll(3000)) if how == "poll" else (lambda: list(poller.ipoll(3000)))
    blocked = Blocked(wait)
    fd = srv.fileno()
    t0 = time.monotonic()
    srv.close()
    fresh = [track(us.socket()) for _ in range(4)]
    assert fd not in [f.fileno() for f in fresh]
    result = blocked.outcome()
    assert blocked.ended - t0 < 1.0
    assert result == [(srv, uselect.POLLNVAL)], result
    cli.settimeout(2)
    assert cli.recv(10) == b""  # the peer saw EOF at once
    os.fstat(fd)  # still held by the poll object
    poller.unregister(srv)
    with pytest.raises(OSError):
        os.fstat(fd)


def test_close_under_many_blocked_calls_wakes_them_all(us, track, tcp_pair):
    """Four calls in four threads and a poll in a fifth, all on one socket."""
    cli, srv = tcp_pair
    cli.settimeout(3)
    poller = uselect.poll()
    poller.register(cli, uselect.POLLIN)
    calls = [lambda: cli.recv(10), lambda: cli.readinto(bytearray(10)), cli.readline,
             lambda: cli.read(10)]
    # The first takes the socket's receive side; the next three queue for it.
    waiters = [Blocked(c, in_kernel=i == 0) for i, c in enumerate(calls)]
    waiters.append(Blocked(lambda: poller.poll(3000)))
    fd = cli.fileno()
    t0 = time.monotonic()
    cli.close()
    fresh = [track(us.socket()) for _ in range(8)]
    assert fd not in [f.fileno() for f in fresh]
    outcomes = [w.outcome() for w in waiters]
    assert all(isinstance(o, OSError) and o.errno == errno.EBADF for o in outcomes[:-1]), outcomes
    assert outcomes[-1] == [(cli, uselect.POLLNVAL)]
    assert max(w.ended for w in waiters) - t0 < 1.0
    poller.unregister(cli)
    with pytest.raises(OSError):
        os.fstat(fd)


STRESS_SECONDS = float(os.environ.get("USOCKET_STRESS_SECONDS", "0"))


@pytest.mark.skipif(STRESS_SECONDS <= 0, reason=(
    "a race hunt, slow by nature: set USOCKET_STRESS_SECONDS (e.g. 60) to run it"))
def test_stress_close_while_threads_cycle_through_timed_waits(us):
    """Eight threads recv(1) on one timed socket while a peer trickles
    bytes, so that most of them keep going from recv (EAGAIN) back to
    waiting; then the socket is closed. Every one must end promptly with
    EBADF: one that reads the closed descriptor as -1 on its way into
    poll(2) would sleep until its deadline instead."""
    # conftest's guard, re-armed for this test's length (its fixture
    # cancels both when the test ends).
    signal.setitimer(signal.ITIMER_REAL, STRESS_SECONDS + 30)
    faulthandler.dump_traceback_later(STRESS_SECONDS + 60, exit=True)
    lsn = socket.create_server(("127.0.0.1", 0))
    deadline = time.monotonic() + STRESS_SECONDS
    rounds, late = 0, []
    try:
        while time.monotonic() < deadline and len(late) < 3:
            rounds += 1
            s = us.socket()
            s.connect(lsn.getsockname())
            peer, _ = lsn.accept()
            s.settimeout(2)
            stop = threading.Event()

            def feed():
                while not stop.is_set():
                    try:
                        peer.send(b"x")
                    except OSError:
                        return

            def drain():
                try:
                    for _ in range(10**6):
                        s.recv(1)
                except OSError as e:
                    return e

            ends = []
            workers = [threading.Thread(target=lambda: ends.append((drain(), time.monotonic())),
                                        daemon=True) for _ in range(8)]
            feeder = threading.Thread(target=feed, daemon=True)
            for w in workers:
                w.start()
            feeder.start()
            time.sleep(0.01)
            t0 = time.monotonic()
            s.close()
            for w in workers:
                w.join(5)
            stop.set()
            feeder.join(5)
            peer.close()
            slow = [(e, t - t0) for e, t in ends if t - t0 > 0.5 or e.errno != errno.EBADF]
            if slow or len(ends) != len(workers):
                late.append((rounds, slow))
    finally:
        lsn.close()
    assert not late, f"{len(late)} of {rounds} rounds had a late or wrong waiter: {late}"
