"""test_hardening_threads.py: what docs/threads.md promises. Threads that
share a socket or a buffered stream get whole lines and whole reads, each
byte exactly once; close() in one thread wakes the others, which raise
EBADF, and frees nothing under them; a forked child's close() of an
inherited socket leaves its parent's connection alone."""
import collections
import errno
import os
import signal
import threading
import time

import pytest

import usocket

N_LINES = 50000
RECORD = 13  # len(b"line %07d\n")


def record(i):
    return b"line %07d\n" % i


def nfds():
    return len(os.listdir("/proc/self/fd"))


def send_records(cli, n):
    for i in range(0, n, 1000):
        cli.sendall(b"".join(record(j) for j in range(i, min(n, i + 1000))))
    cli.shutdown(usocket.SHUT_WR)


def run_readers(read, k=2, deadline=15.0):
    """Runs k threads calling read() until it returns b''; returns what each
    got. Any exception ends that thread and is re-raised here."""
    got = [[] for _ in range(k)]
    errors = []

    def body(i):
        try:
            while True:
                chunk = read()
                if not chunk:
                    return
                got[i].append(chunk)
        except BaseException as e:  # reported below
            errors.append(e)

    ts = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(k)]
    for t in ts:
        t.start()
    return ts, got, errors, deadline


def finish(ts, errors, deadline):
    end = time.monotonic() + deadline
    for t in ts:
        t.join(max(0.0, end - time.monotonic()))
    assert not any(t.is_alive() for t in ts), "a reader never saw EOF"
    assert not errors, errors


def assert_each_record_once(results, n):
    """Every result is exactly one record, and every record came once."""
    allr = [r for rs in results for r in rs]
    bad = [r for r in allr if len(r) != RECORD or not r.endswith(b"\n")
           or r.count(b"\n") != 1]
    assert not bad, bad[:4]
    counts = collections.Counter(allr)
    dups = [r for r, c in counts.items() if c > 1]
    assert not dups, dups[:4]
    want = {record(i) for i in range(n)}
    assert set(counts) == want, (sorted(set(counts) - want)[:4],
                                 sorted(want - set(counts))[:4])


# ---- two readers ----------------------------------------------------------

def test_two_threads_readline_one_socket_get_whole_lines(tcp_pair):
    cli, srv = tcp_pair
    srv.settimeout(20)
    ts, got, errors, dl = run_readers(srv.readline)
    send_records(cli, N_LINES)
    finish(ts, errors, dl)
    assert_each_record_once(got, N_LINES)


def test_two_threads_read_one_socket_get_whole_reads(tcp_pair):
    cli, srv = tcp_pair
    srv.settimeout(20)
    ts, got, errors, dl = run_readers(lambda: srv.read(RECORD))
    send_records(cli, N_LINES)
    finish(ts, errors, dl)
    assert_each_record_once(got, N_LINES)


@pytest.mark.parametrize("size", [256, 4096])
def test_two_threads_readline_one_buffered_stream_get_whole_lines(tcp_pair, size):
    cli, srv = tcp_pair
    srv.settimeout(20)
    f = srv.makefile("rb", size)
    ts, got, errors, dl = run_readers(f.readline)
    send_records(cli, N_LINES)
    finish(ts, errors, dl)
    assert_each_record_once(got, N_LINES)


def test_two_threads_read_one_buffered_stream_get_whole_reads(tcp_pair):
    cli, srv = tcp_pair
    srv.settimeout(20)
    f = srv.makefile("rb", 100)  # records straddle the buffer's refills
    ts, got, errors, dl = run_readers(lambda: f.read(RECORD))
    send_records(cli, N_LINES)
    finish(ts, errors, dl)
    assert_each_record_once(got, N_LINES)


def test_two_threads_write_one_buffered_stream_whole_writes(tcp_pair):
    cli, srv = tcp_pair
    srv.settimeout(20)
    f = cli.makefile("wb", 64)
    n = 20000

    def writer(base):
        for i in range(base, n, 2):
            f.write(record(i))

    ts = [threading.Thread(target=writer, args=(b,), daemon=True) for b in (0, 1)]
    for t in ts:
        t.start()
    got = []

    def reader():
        while True:
            line = srv.readline()
            if not line:
                return
            got.append(line)

    r = threading.Thread(target=reader, daemon=True)
    r.start()
    for t in ts:
        t.join(15)
    f.flush()
    cli.shutdown(usocket.SHUT_WR)
    r.join(15)
    assert not r.is_alive()
    assert_each_record_once([got], n)


# ---- close while another thread is inside ---------------------------------

def start_blocked_reader(call):
    out = []

    def body():
        try:
            out.append(call())
        except OSError as e:
            out.append(e)

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, out


def test_buffered_close_during_blocked_readline_wakes_it_and_frees_the_fd(listener):
    """close() of a stream holding the only reference to its socket, while
    a reader is blocked in it: the reader gets EBADF, and the descriptor is
    closed once it has left (not leaked, nothing freed under it)."""
    base = nfds()
    for _ in range(40):
        cli = usocket.socket()
        cli.connect(listener.getsockname())
        conn, _ = listener.accept()
        f = conn.makefile("rb", 4096)
        del conn
        t, out = start_blocked_reader(f.readline)
        time.sleep(0.01)
        f.close()
        s2 = usocket.socket()  # would take the memory of a freed socket
        t.join(5)
        assert not t.is_alive(), "close() did not wake the reader"
        assert len(out) == 1 and isinstance(out[0], OSError), out
        assert out[0].errno == errno.EBADF, out
        s2.close()
        cli.close()
    assert nfds() == base


def test_socket_closed_after_buffered_close_race_still_wakes_its_own_recv(listener):
    """The next socket object must not inherit a corrupted busy count from
    a stream closed during a read: its close() wakes a recv blocked on it."""
    cli = usocket.socket()
    cli.connect(listener.getsockname())
    conn, _ = listener.accept()
    f = conn.makefile("rb", 4096)
    del conn
    t, _ = start_blocked_reader(f.readline)
    time.sleep(0.2)
    f.close()
    s2 = usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM)
    t.join(5)
    s2.bind(("127.0.0.1", 0))
    t2, out = start_blocked_reader(lambda: s2.recv(10))
    time.sleep(0.2)
    s2.close()
    t2.join(5)
    cli.close()
    assert not t2.is_alive(), "close() did not wake the recv blocked on it"
    assert isinstance(out[0], OSError) and out[0].errno == errno.EBADF, out


@pytest.mark.parametrize("buffered", [False, True])
def test_close_wakes_a_reader_blocked_and_those_waiting_behind_it(tcp_pair, buffered):
    """One reader in the kernel, three waiting their turn (blocking: they
    would wait for good): close() ends all four promptly."""
    cli, srv = tcp_pair
    f = srv.makefile("rb", 4096) if buffered else srv
    readers = [start_blocked_reader(f.readline) for _ in range(4)]
    time.sleep(0.3)
    t0 = time.monotonic()
    f.close()
    for t, _ in readers:
        t.join(5)
    assert time.monotonic() - t0 < 3
    for _, out in readers:
        assert out and isinstance(out[0], OSError) and out[0].errno == errno.EBADF, out


def test_a_reader_waiting_behind_another_keeps_its_timeout(tcp_pair):
    cli, srv = tcp_pair
    srv.settimeout(0.5)
    first, out1 = start_blocked_reader(srv.readline)
    time.sleep(0.05)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        srv.readline()
    took = time.monotonic() - t0
    first.join(5)
    assert 0.3 < took < 3, took
    assert isinstance(out1[0], TimeoutError), out1


@pytest.mark.parametrize("buffered", [False, True])
def test_signal_handler_reading_what_its_thread_reads_fails_cleanly(tcp_pair, buffered):
    """A handler that runs inside a blocked readline and reads the same
    socket or stream gets EDEADLK at once (it would wait for itself)."""
    cli, srv = tcp_pair
    srv.settimeout(5)
    f = srv.makefile("rb", 4096) if buffered else srv
    seen = []

    def handler(signum, frame):
        try:
            f.readline()
        except OSError as e:
            seen.append(e.errno)
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGUSR1, handler)
    main = threading.main_thread().ident
    try:
        timer = threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGUSR1))
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            f.readline()
        timer.join()
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert seen == [errno.EDEADLK]
    assert time.monotonic() - t0 < 3
    cli.sendall(b"after\n")  # the stream still works
    assert f.readline() == b"after\n"


# ---- fork ------------------------------------------------------------------

def fork_and_close(sock):
    """Forks; the child closes its copy of sock and exits 0 if its own
    descriptor is then closed."""
    fd = sock.fileno()
    pid = os.fork()
    if pid == 0:
        try:
            sock.close()
            os.fstat(fd)
            os._exit(1)  # still open: the child leaked it
        except OSError:
            os._exit(0)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_child_closing_a_listener_blocked_in_accept_leaves_the_parents(listener):
    got = []

    def acceptor():
        try:
            c, _ = listener.accept()
            got.append("accepted")
            c.close()
        except OSError as e:
            got.append(e)

    t = threading.Thread(target=acceptor, daemon=True)
    t.start()
    time.sleep(0.2)
    assert fork_and_close(listener) == 0
    time.sleep(0.1)
    assert got == []  # the parent's accept is still waiting
    c = usocket.socket()
    c.settimeout(5)
    c.connect(listener.getsockname())
    t.join(5)
    c.close()
    assert got == ["accepted"]


def test_child_closing_a_connection_with_a_blocked_recv_leaves_the_parents(tcp_pair):
    cli, srv = tcp_pair
    t, out = start_blocked_reader(lambda: srv.recv(100))
    time.sleep(0.2)
    assert fork_and_close(srv) == 0
    time.sleep(0.1)
    assert out == []  # no false EOF in the parent
    cli.settimeout(0.3)
    with pytest.raises(TimeoutError):
        cli.recv(10)  # nor at the peer
    srv.sendall(b"hello")
    cli.settimeout(5)
    assert cli.recv(10) == b"hello"
    cli.sendall(b"back")
    t.join(5)
    assert out == [b"back"]


def test_child_closing_a_polled_listener_leaves_the_parents(listener):
    import uselect

    p = uselect.poll()
    p.register(listener, uselect.POLLIN)
    assert fork_and_close(listener) == 0
    c = usocket.socket()
    c.settimeout(5)
    c.connect(listener.getsockname())
    ready = p.poll(5000)
    c.close()
    assert [(s, ev) for s, ev in ready] == [(listener, uselect.POLLIN)]
