"""conftest.py: loopback peers for the usocket tests, all closed at teardown.

The module under test is imported lazily (inside the fixtures and in each
test file), so that other test files of tests/py that do not need usocket
still collect if it fails to build. Every test runs under two guards: a soft
one (SIGALRM after SOFT_LIMIT s raises in the main thread, which a correct
module turns into the test's failure) and a hard one (faulthandler prints all
stacks and ends the run after HARD_LIMIT s), so a hang never stalls CI.
"""
import faulthandler
import os
import signal
import socket
import threading
import time

import pytest

SOFT_LIMIT = 20
HARD_LIMIT = 45


# Started in the background by a script (`make test &`, nohup), the suite
# inherits SIGINT ignored, and Python then installs no KeyboardInterrupt
# handler; its children inherit the ignoring too. The Ctrl-C tests need
# what every user at a terminal has: Python's default handler.
if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.SIG_DFL):
    signal.signal(signal.SIGINT, signal.default_int_handler)


class HangGuard(Exception):
    """Raised by the soft guard when a test runs far longer than it should."""


def _soft_guard(signum, frame):
    raise HangGuard(f"test still running after {SOFT_LIMIT} s: a call hangs")


@pytest.fixture(autouse=True)
def hang_guard():
    on_main = threading.current_thread() is threading.main_thread()
    faulthandler.dump_traceback_later(HARD_LIMIT, exit=True)
    if on_main:
        old = signal.signal(signal.SIGALRM, _soft_guard)
        signal.setitimer(signal.ITIMER_REAL, SOFT_LIMIT)
    try:
        yield
    finally:
        if on_main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def us():
    """The usocket module."""
    import usocket

    return usocket


@pytest.fixture
def track():
    """track(sock) registers a socket (usocket or CPython) to close at
    teardown and returns it."""
    socks = []

    def add(sock):
        socks.append(sock)
        return sock

    yield add
    for sock in reversed(socks):
        try:
            sock.close()
        except OSError:
            pass


@pytest.fixture
def later():
    """later(delay, fn, *args) runs fn in a daemon thread after delay
    seconds; the threads are joined (bounded) at teardown."""
    threads = []

    def start(delay, fn, *args):
        def body():
            time.sleep(delay)
            try:
                fn(*args)
            except OSError:
                pass  # the test has closed what fn used: nothing to do

        t = threading.Thread(target=body, daemon=True)
        t.start()
        threads.append(t)
        return t

    yield start
    for t in threads:
        t.join(5)


def ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.fixture
def listener(us, track):
    """A usocket TCP listener on 127.0.0.1, an ephemeral port, backlog 16."""
    lsn = track(us.socket(us.AF_INET, us.SOCK_STREAM))
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(16)
    return lsn


@pytest.fixture
def listener_port(listener):
    return listener.getsockname()[1]


@pytest.fixture
def tcp_pair(us, track, listener):
    """(client, server): two connected usocket TCP sockets, both blocking."""
    cli = track(us.socket(us.AF_INET, us.SOCK_STREAM))
    cli.connect(("127.0.0.1", listener.getsockname()[1]))
    srv, _ = listener.accept()
    track(srv)
    return cli, srv


@pytest.fixture
def cpeer_pair(us, track):
    """(usock, peer): a blocking usocket TCP socket connected to a CPython
    socket (timeout 5 s), so that the peer's behaviour is known-good."""
    lsn = track(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(4)
    usock = track(us.socket(us.AF_INET, us.SOCK_STREAM))
    usock.connect(("127.0.0.1", lsn.getsockname()[1]))
    lsn.settimeout(5)
    peer, _ = lsn.accept()
    track(peer)
    peer.settimeout(5)
    lsn.close()
    return usock, peer


@pytest.fixture
def udp_pair(us, track):
    """(a, b): two usocket UDP sockets bound on 127.0.0.1, not connected."""
    a = track(us.socket(us.AF_INET, us.SOCK_DGRAM))
    b = track(us.socket(us.AF_INET, us.SOCK_DGRAM))
    a.bind(("127.0.0.1", 0))
    b.bind(("127.0.0.1", 0))
    return a, b


@pytest.fixture
def tcp6_pair(us, track):
    """(client, server) over ::1; skipped only when ::1 cannot be bound."""
    if not ipv6_loopback_available():
        pytest.skip("IPv6 loopback ::1 is not available on this machine")
    lsn = track(us.socket(us.AF_INET6, us.SOCK_STREAM))
    lsn.bind(("::1", 0))
    lsn.listen(4)
    cli = track(us.socket(us.AF_INET6, us.SOCK_STREAM))
    cli.connect(("::1", lsn.getsockname()[1]))
    srv, _ = lsn.accept()
    track(srv)
    return cli, srv


@pytest.fixture
def full_listener(track):
    """(addr, fillers): a CPython listener with backlog 0 whose accept queue
    is already full, so the kernel drops the next SYN and a connect to addr
    blocks (SYN retransmission) instead of completing."""
    lsn = track(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(0)
    addr = lsn.getsockname()
    fillers = []
    for _ in range(8):  # bounded: Linux queues backlog + 1
        c = track(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        c.settimeout(0.3)
        try:
            c.connect(addr)
        except (TimeoutError, OSError):
            break
        fillers.append(c)
    else:
        pytest.skip("cannot fill a listener's accept queue on this kernel")
    return addr, fillers


def fd_count():
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def open_fds():
    """open_fds() counts this process's open descriptors."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("/proc/self/fd is not available")
    return fd_count
