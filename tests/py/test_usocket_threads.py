"""test_usocket_threads.py: blocking calls release the GIL (other threads
run), Ctrl-C (SIGINT) interrupts a blocking accept/recv/connect promptly,
and one socket is usable from two threads at once."""
import errno
import signal
import threading
import time

import pytest
from signal_util import PROMPT, wakeup_slack

import usocket
from timing import late


class Counter(threading.Thread):
    """Counts in a loop for `duration` s, recording the longest stall
    between two iterations (long if the GIL is never released), then
    calls `wake` (which unblocks the main thread)."""

    def __init__(self, duration, wake=None):
        super().__init__(daemon=True)
        self.duration, self.wake = duration, wake
        self.count, self.max_gap, self.wake_error = 0, 0.0, None

    def run(self):
        last = start = time.monotonic()
        while last - start < self.duration:
            now = time.monotonic()
            self.max_gap = max(self.max_gap, now - last)
            last = now
            self.count += 1
        if self.wake:
            try:
                self.wake()
            except Exception as e:  # reported by the test
                self.wake_error = e


def _scenario(name, us, track, tcp_pair, listener):
    """(blocking call, wake action, expected result check) for each call."""
    cli, srv = tcp_pair
    if name == "accept":
        listener.settimeout(3)  # the safety net if the GIL were held
        waker = track(us.socket())
        return (listener.accept, lambda: waker.connect(listener.getsockname()),
                lambda r: isinstance(r[0], us.socket))
    cli.settimeout(3)
    if name == "recv":
        return (lambda: cli.recv(10), lambda: srv.send(b"wake"), lambda r: r == b"wake")
    if name == "readline":
        return (cli.readline, lambda: srv.send(b"wake\n"), lambda r: r == b"wake\n")
    if name == "read":
        return (lambda: cli.read(4), lambda: srv.send(b"wake"), lambda r: r == b"wake")
    if name == "recvfrom":
        udp = track(us.socket(us.AF_INET, us.SOCK_DGRAM))
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(3)
        sender = track(us.socket(us.AF_INET, us.SOCK_DGRAM))
        return (lambda: udp.recvfrom(10), lambda: sender.sendto(b"wake", udp.getsockname()),
                lambda r: r[0] == b"wake")
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["accept", "recv", "readline", "read", "recvfrom"])
def test_blocked_call_lets_other_threads_run(us, track, tcp_pair, listener, name):
    call, wake, check = _scenario(name, us, track, tcp_pair, listener)
    counter = Counter(0.3, wake)
    t0 = time.monotonic()
    counter.start()
    result = call()  # blocks until the counter thread wakes it
    elapsed = time.monotonic() - t0
    counter.join(5)
    assert counter.wake_error is None
    assert check(result)
    assert counter.count > 10000, "the other thread barely ran"
    assert counter.max_gap < 0.2, f"the other thread stalled {counter.max_gap:.3f} s"
    assert 0.25 <= elapsed < 1.0


def test_accept_in_a_thread_does_not_stop_the_main_thread(listener, track):
    """The issue's shape: accept blocks in a worker, the main thread counts;
    then a connect wakes accept."""
    listener.settimeout(3)
    result = {}

    def acceptor():
        try:
            result["pair"] = listener.accept()
        except BaseException as e:
            result["error"] = e

    worker = threading.Thread(target=acceptor, daemon=True)
    worker.start()
    time.sleep(0.05)
    count, max_gap = 0, 0.0
    last = start = time.monotonic()
    while last - start < 0.3:
        now = time.monotonic()
        max_gap, last = max(max_gap, now - last), now
        count += 1
    assert worker.is_alive() and not result, "accept returned with no client"
    assert count > 10000 and max_gap < 0.2
    c = track(usocket.socket())
    c.connect(listener.getsockname())
    worker.join(2)
    assert "pair" in result, result.get("error")
    track(result["pair"][0])
    assert result["pair"][1] == c.getsockname()


def test_timed_calls_in_two_threads_overlap(us, track):
    socks = []
    for _ in range(2):
        lsn = track(us.socket())
        lsn.bind(("127.0.0.1", 0))
        lsn.listen(1)
        c = track(us.socket())
        c.connect(lsn.getsockname())
        track(lsn.accept()[0])
        c.settimeout(1.0)
        socks.append(c)
    errors = []

    def waiter(s):
        try:
            s.recv(1)
        except TimeoutError as e:
            errors.append(e)

    threads = [threading.Thread(target=waiter, args=(s,), daemon=True) for s in socks]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(3)
    elapsed = time.monotonic() - t0
    assert len(errors) == 2
    # Serialised, they would take 2 s at least; side by side, 1 s and
    # whatever the machine adds.
    assert elapsed < late(1.0) and elapsed < 1.9, f"the two 1 s waits took {elapsed:.2f} s: serialised"


def test_send_from_one_thread_while_another_blocks_in_recv(tcp_pair):
    cli, srv = tcp_pair
    cli.settimeout(3)
    srv.settimeout(3)
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("r", cli.recv(10)), daemon=True)
    t.start()
    time.sleep(0.1)
    cli.send(b"ping")  # the same socket, while it is blocked in recv
    assert srv.recv(10) == b"ping"
    srv.send(b"pong")
    t.join(3)
    assert got.get("r") == b"pong"


# ---- Ctrl-C -----------------------------------------------------------------------

def run_interrupted(fn, delay=0.2):
    """Runs fn in the main thread while another thread sends SIGINT to it
    after `delay` s; returns (outcome, seconds from the signal until fn
    ended, the most that may be: the contract's PROMPT plus the machine's
    wake-up slack, the worst measured just before and just after: a busy
    machine's lateness comes and goes, and one look can catch a quiet
    moment)."""
    assert threading.current_thread() is threading.main_thread()
    probe = [0.0, 0.001, 0.003, 0.01, 0.02, delay / 8, delay / 4, delay / 2]
    slack = wakeup_slack(probe)
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    sent = []

    def send():
        sent.append(time.monotonic())
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    timer = threading.Timer(delay, send)
    outcome, late = "unset", None
    try:
        timer.start()
        try:
            fn()
            outcome = "returned"
        except KeyboardInterrupt:
            outcome = "KeyboardInterrupt"
        except Exception as e:
            outcome = repr(e)
        if sent:
            late = time.monotonic() - sent[0]
        time.sleep(0.05)  # a handler that runs late raises here, not later
    except KeyboardInterrupt:
        outcome += " (then a late KeyboardInterrupt)"
    finally:
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGINT, old)
    bound = PROMPT + max(slack, wakeup_slack(probe))
    return outcome, late, bound


def test_ctrl_c_interrupts_a_blocking_accept(listener, track):
    listener.settimeout(3)  # the safety net if the signal were ignored
    outcome, late, bound = run_interrupted(listener.accept)
    assert outcome == "KeyboardInterrupt"
    assert late < bound
    c = track(usocket.socket())  # the listener still works afterwards
    c.connect(listener.getsockname())
    conn, _ = listener.accept()
    track(conn)


def test_ctrl_c_interrupts_a_blocking_recv(tcp_pair):
    cli, srv = tcp_pair
    outcome, late, bound = run_interrupted(lambda: cli.recv(10))
    assert outcome == "KeyboardInterrupt"
    assert late < bound
    srv.send(b"still fine")  # nothing was lost or broken
    cli.settimeout(2)
    assert cli.recv(20) == b"still fine"


def test_ctrl_c_interrupts_a_fully_blocking_recv(tcp_pair):
    cli, _ = tcp_pair
    cli.settimeout(None)
    # No timeout at all: only the signal can end this call (the hang guard
    # of conftest.py ends the test if it does not).
    outcome, late, bound = run_interrupted(lambda: cli.recv(10))
    assert outcome == "KeyboardInterrupt"
    assert late < bound


@pytest.mark.parametrize("call", [
    lambda s: s.readline(), lambda s: s.read(100), lambda s: s.read(),
    lambda s: s.readinto(bytearray(100)), lambda s: s.makefile("rb", 4096).readline(),
    lambda s: s.makefile("rb", 4096).read(100),
], ids=["readline", "read-n", "read-all", "readinto", "buffered-readline", "buffered-read"])
def test_ctrl_c_interrupts_a_stream_read_after_partial_data(tcp_pair, call):
    # Some bytes have arrived when the signal comes: the handler's
    # KeyboardInterrupt must still come out (not a result and an exception).
    cli, srv = tcp_pair
    cli.settimeout(3)
    srv.send(b"partial")
    outcome, late, bound = run_interrupted(lambda: call(cli))
    assert outcome == "KeyboardInterrupt"
    assert late < bound


def test_ctrl_c_interrupts_a_stream_write_after_partial_data(cpeer_pair):
    s, _ = cpeer_pair
    s.settimeout(3)
    # Made before: freeing 64 MiB as the exception unwinds takes
    # milliseconds of the test's own, not of the call.
    data = b"x" * (64 << 20)
    outcome, late, bound = run_interrupted(lambda: s.write(data))
    assert outcome == "KeyboardInterrupt"
    assert late < bound


def test_ctrl_c_interrupts_a_blocking_connect(full_listener, track):
    """The listener's accept queue is full, so the kernel drops our SYN and
    connect blocks (SYN retransmission) until SIGINT ends it."""
    addr, _ = full_listener
    s = track(usocket.socket())
    s.settimeout(3)
    outcome, late, bound = run_interrupted(lambda: s.connect(addr))
    assert outcome == "KeyboardInterrupt"
    assert late < bound


def test_ctrl_c_interrupts_a_blocking_sendall(cpeer_pair):
    s, _ = cpeer_pair
    s.settimeout(3)
    # Made before: freeing 64 MiB as the exception unwinds takes
    # milliseconds of the test's own, not of the call.
    data = b"x" * (64 << 20)
    outcome, late, bound = run_interrupted(lambda: s.sendall(data))
    assert outcome == "KeyboardInterrupt"
    assert late < bound


# ---- settimeout from another thread ---------------------------------------------

def _in_thread(fn):
    res = {}

    def body():
        t0 = time.monotonic()
        try:
            res["got"] = fn()
        except Exception as e:
            res["err"] = e
        res["took"] = time.monotonic() - t0

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, res


def test_a_blocking_call_keeps_blocking_after_settimeout_from_another_thread(tcp_pair):
    """A call keeps the timeout it began with: settimeout() during a
    blocking read(100) neither ends it short nor times it out; only the
    socket's next call sees the new timeout."""
    cli, srv = tcp_pair
    t, res = _in_thread(lambda: srv.read(100))
    try:
        time.sleep(0.2)
        srv.settimeout(0.3)  # the reader is inside its blocking wait
        time.sleep(0.05)
        cli.sendall(b"x" * 10)
        t.join(1.0)  # over three times the new timeout
        assert t.is_alive(), "the blocking read ended early: %r" % res
        cli.sendall(b"y" * 90)
        t.join(3)
        assert res.get("got") == b"x" * 10 + b"y" * 90
    finally:
        if t.is_alive():
            srv.close()
            t.join(3)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        srv.read(100)
    assert time.monotonic() - t0 >= 0.25


def test_a_timed_call_keeps_its_deadline_after_settimeout_none_from_another_thread(tcp_pair):
    cli, srv = tcp_pair
    srv.settimeout(0.5)
    t, res = _in_thread(lambda: srv.read(100))
    try:
        time.sleep(0.1)
        srv.settimeout(None)  # the descriptor blocks from now on
        cli.sendall(b"x" * 10)
        t.join(3)
        assert not t.is_alive(), "the timed read blocked past its deadline"
    finally:
        if t.is_alive():
            srv.close()
            t.join(3)
    assert res.get("got") == b"x" * 10  # what came before the deadline
    assert 0.45 <= res["took"] < 2.0


# ---- close from another thread ----------------------------------------------------

@pytest.mark.parametrize("name", ["recv", "accept", "readline"])
def test_close_from_another_thread_wakes_a_blocked_call(tcp_pair, listener, later, name):
    """close() is an operation like any other: a call blocked on the socket
    in another thread ends promptly with OSError(EBADF) (the core's
    contract, include/usocket.h us_socket_close), and the peer sees EOF."""
    cli, srv = tcp_pair
    target = listener if name == "accept" else cli
    target.settimeout(3)  # the safety net if close did not wake it
    call = {"recv": lambda: cli.recv(10), "accept": listener.accept,
            "readline": cli.readline}[name]
    later(0.2, target.close)
    t0 = time.monotonic()
    with pytest.raises(OSError) as e:
        call()
    elapsed = time.monotonic() - t0
    assert e.value.errno == errno.EBADF
    assert elapsed < 1.0
    if name != "accept":
        srv.settimeout(2)
        assert srv.recv(10) == b""
