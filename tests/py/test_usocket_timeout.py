"""test_usocket_timeout.py: settimeout and setblocking: argument checks,
TimeoutError on every blocking call, setblocking's equivalence, the
deadline kept across EINTR."""
import errno
import math
import signal
import socket
import threading
import time

import pytest

import usocket
from timing import late


@pytest.mark.parametrize("value", [-0.5, -1, -math.inf, math.nan])
def test_settimeout_negative_or_nan_is_valueerror(track, value):
    s = track(usocket.socket())
    with pytest.raises(ValueError):
        s.settimeout(value)


@pytest.mark.parametrize("value", ["1", b"1", [1]], ids=repr)
def test_settimeout_wrong_type_is_typeerror(track, value):
    s = track(usocket.socket())
    with pytest.raises(TypeError):
        s.settimeout(value)


def test_settimeout_huge_is_refused(track):
    s = track(usocket.socket())
    with pytest.raises((OverflowError, ValueError)):
        s.settimeout(1e300)


def test_settimeout_takes_int_and_float(tcp_pair):
    cli, _ = tcp_pair
    cli.settimeout(1)
    cli.settimeout(0.25)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        cli.recv(1)
    assert 0.23 <= time.monotonic() - t0 < late(0.25)


# ---- every blocking call honours the timeout --------------------------------

def _op_recv(env):
    env["cli"].recv(10)


def _op_read(env):
    env["cli"].read(10)


def _op_read_all(env):
    env["cli"].read()


def _op_readinto(env):
    env["cli"].readinto(bytearray(10))


def _op_readline(env):
    env["cli"].readline()


def _op_recvfrom(env):
    env["udp"].recvfrom(10)


def _op_accept(env):
    env["lsn"].accept()


def _op_connect(env):
    env["fresh"].connect(env["full"])


def _op_sendall(env):
    env["cli"].sendall(env["big"])


BLOCKING_OPS = [_op_recv, _op_read, _op_read_all, _op_readinto, _op_readline,
                _op_recvfrom, _op_accept, _op_connect, _op_sendall]


@pytest.fixture
def blocking_env(request, us, track, tcp_pair, listener):
    udp = track(us.socket(us.AF_INET, us.SOCK_DGRAM))
    udp.bind(("127.0.0.1", 0))
    # The payload is made here, not in the timed call: filling 64 MiB can
    # take a busy machine a good part of the timeout.
    return {"cli": tcp_pair[0], "udp": udp, "lsn": listener,
            "fresh": track(us.socket()), "request": request,
            "big": b"x" * (64 << 20)}


@pytest.mark.parametrize("op", BLOCKING_OPS, ids=lambda f: f.__name__[4:])
def test_timeout_expiry_is_timeouterror_with_etimedout(blocking_env, op):
    if op is _op_connect:  # a listener whose queue is full drops the SYN
        blocking_env["full"] = blocking_env["request"].getfixturevalue("full_listener")[0]
    for s in ("cli", "udp", "lsn", "fresh"):
        blocking_env[s].settimeout(0.2)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        op(blocking_env)
    elapsed = time.monotonic() - t0
    assert e.value.errno == errno.ETIMEDOUT
    assert isinstance(e.value, OSError) and isinstance(e.value, socket.timeout)
    assert 0.18 <= elapsed < late(0.2)


# ---- setblocking(flag) is settimeout(None / 0) ------------------------------

def observe_non_blocking(us, track):
    """What a user sees from each call on a socket made non-blocking by the
    caller's `make` function: one outcome per call, as text."""
    def outcome(fn):
        try:
            r = fn()
        except OSError as e:
            return f"{type(e).__name__}:{errno.errorcode.get(e.errno)}"
        return repr(r) if r is None or isinstance(r, (bytes, int)) else "value"

    def run(make):
        lsn = track(us.socket())
        lsn.bind(("127.0.0.1", 0))
        lsn.listen(4)
        cli = track(us.socket())
        cli.connect(lsn.getsockname())
        srv = track(lsn.accept()[0])
        udp = track(us.socket(us.AF_INET, us.SOCK_DGRAM))
        udp.bind(("127.0.0.1", 0))
        fresh = track(us.socket())
        for s in (lsn, cli, udp, fresh):
            make(s)
        return [
            outcome(lambda: cli.recv(1)),
            outcome(lambda: cli.read(1)),
            outcome(lambda: cli.readline()),
            outcome(lambda: cli.readinto(bytearray(1))),
            outcome(lambda: udp.recvfrom(1)),
            outcome(lambda: lsn.accept()),
            outcome(lambda: fresh.connect(lsn.getsockname())),
            outcome(lambda: srv.send(b"x")),
        ]
    return run


def test_setblocking_false_is_settimeout_zero(us, track):
    run = observe_non_blocking(us, track)
    via_timeout = run(lambda s: s.settimeout(0))
    via_blocking = run(lambda s: s.setblocking(False))
    assert via_blocking == via_timeout
    assert via_timeout[:6] == ["BlockingIOError:EAGAIN", "None", "None", "None",
                               "BlockingIOError:EAGAIN", "BlockingIOError:EAGAIN"]
    assert via_timeout[6] == "BlockingIOError:EINPROGRESS"


@pytest.mark.parametrize("make_blocking", [
    lambda s: s.setblocking(True), lambda s: s.settimeout(None),
], ids=["setblocking(True)", "settimeout(None)"])
@pytest.mark.parametrize("before", [0.1, 0], ids=["was-timed", "was-non-blocking"])
def test_setblocking_true_is_settimeout_none(tcp_pair, later, make_blocking, before):
    cli, srv = tcp_pair
    cli.settimeout(before)
    make_blocking(cli)
    later(0.3, srv.send, b"late")
    t0 = time.monotonic()
    assert cli.recv(10) == b"late"  # neither a timeout nor BlockingIOError
    assert time.monotonic() - t0 >= 0.25


# ---- deadlines and EINTR ------------------------------------------------------

def test_timeout_is_a_deadline_across_signals(tcp_pair):
    """A signal every 50 ms (handler returns normally) must neither end the
    call early nor restart its timeout: recv with 0.3 s ends near 0.3 s."""
    cli, _ = tcp_pair
    hits = []
    old = signal.signal(signal.SIGUSR1, lambda *a: hits.append(1))
    main = threading.main_thread().ident
    stop = threading.Event()

    def pester():
        for _ in range(40):  # bounded: at most 2 s of signals
            if stop.wait(0.05):
                return
            signal.pthread_kill(main, signal.SIGUSR1)

    t = threading.Thread(target=pester, daemon=True)
    try:
        cli.settimeout(0.3)
        t.start()
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            cli.recv(10)
        elapsed = time.monotonic() - t0
    finally:
        stop.set()
        t.join(5)
        signal.signal(signal.SIGUSR1, old)
    assert len(hits) >= 2
    assert 0.28 <= elapsed < late(0.3)


def test_blocking_recv_survives_a_signal_and_gets_the_data(tcp_pair, later):
    cli, srv = tcp_pair
    hits = []
    old = signal.signal(signal.SIGUSR1, lambda *a: hits.append(1))
    main = threading.main_thread().ident
    try:
        later(0.1, signal.pthread_kill, main, signal.SIGUSR1)
        later(0.3, srv.send, b"after")
        assert cli.recv(10) == b"after"
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert hits == [1]


def test_connected_pair_is_blocking_by_default(tcp_pair, later):
    cli, srv = tcp_pair
    later(0.2, srv.send, b"x")
    t0 = time.monotonic()
    assert cli.recv(1) == b"x"
    assert time.monotonic() - t0 >= 0.15
