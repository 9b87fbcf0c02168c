"""uselect: poll objects, one-shot ipoll, select(), over loopback only."""
import errno
import gc
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import weakref

import pytest

import uselect
from timing import late

IN, OUT = uselect.POLLIN, uselect.POLLOUT
ERR, HUP, NVAL = uselect.POLLERR, uselect.POLLHUP, uselect.POLLNVAL


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def usocket_pair():
    """A connected usocket TCP pair on 127.0.0.1."""
    usocket = pytest.importorskip("usocket")
    lsn = usocket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)
    c = usocket.socket()
    c.connect(lsn.getsockname())
    s, _ = lsn.accept()
    lsn.close()
    return c, s


class Fileno:
    """Any object with fileno() is pollable."""

    def __init__(self, fd):
        self.fd = fd

    def fileno(self):
        return self.fd


def elapsed(fn, *args):
    t0 = time.monotonic()
    r = fn(*args)
    return r, time.monotonic() - t0


# ---- module ----------------------------------------------------------------


def test_constants_are_micropythons():
    assert (IN, OUT, ERR, HUP, NVAL) == (1, 4, 8, 16, 32)


def test_poll_object_cannot_be_made_from_its_type():
    p = uselect.poll()
    with pytest.raises(TypeError):
        type(p)()
    assert "0 registered" in repr(p)


# ---- register / unregister / modify -----------------------------------------


def test_default_mask_is_in_and_out(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a)
    assert p.poll(0) == [(a, OUT)]
    b.send(b"x")
    assert p.poll(0) == [(a, IN | OUT)]


def test_results_are_the_registered_objects_themselves(pair):
    a, b = pair
    r, w = os.pipe()
    wrapper = Fileno(b.fileno())
    try:
        p = uselect.poll()
        p.register(a, IN)
        p.register(wrapper, OUT)
        p.register(r, IN)
        os.write(w, b"x")
        b.send(b"y")
        res = p.poll(1000)
        assert len(res) == 3
        by_obj = {id(o): ev for o, ev in res}
        assert by_obj == {id(a): IN, id(wrapper): OUT, id(r): IN}
        assert all(o is a or o is wrapper or o is r for o, _ in res)
        assert all(len(t) == 2 for t in res)
    finally:
        os.close(r)
        os.close(w)


def test_registering_again_updates_the_mask(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, IN)
    assert p.poll(0) == []
    p.register(a, OUT)
    assert p.poll(0) == [(a, OUT)]
    assert "1 registered" in repr(p)


def test_another_object_on_the_same_descriptor_replaces_the_first(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, OUT)
    p.register(a.fileno(), OUT)
    assert p.poll(0) == [(a.fileno(), OUT)]
    p.unregister(a.fileno())
    assert p.poll(0) == []


def test_unregister_stops_reports_and_ignores_strangers(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, OUT)
    p.unregister(a)
    assert p.poll(0) == []
    p.unregister(a)  # not registered: ignored, as in MicroPython
    p.unregister(b.fileno())
    with pytest.raises(TypeError):
        p.unregister(object())


def test_unregister_by_descriptor(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, OUT)
    p.unregister(a.fileno())
    assert p.poll(0) == []


def test_unregister_releases_the_reference(pair):
    a, b = pair
    p = uselect.poll()
    before = sys.getrefcount(a)
    p.register(a)
    assert sys.getrefcount(a) == before + 1
    p.register(a, IN)
    assert sys.getrefcount(a) == before + 1
    p.unregister(a)
    assert sys.getrefcount(a) == before


def test_modify_changes_the_mask_and_needs_a_registration(pair):
    a, b = pair
    p = uselect.poll()
    with pytest.raises(OSError) as e:
        p.modify(a, IN)
    assert e.value.errno == errno.ENOENT
    p.register(a, IN)
    assert p.poll(0) == []
    p.modify(a, OUT)
    assert p.poll(0) == [(a, OUT)]
    p.modify(a.fileno(), IN)  # found by its descriptor too
    assert p.poll(0) == []


# ---- bad input --------------------------------------------------------------


@pytest.mark.parametrize("obj", [object(), "3", 3.0, None, Fileno("x")])
def test_register_needs_a_descriptor(obj):
    with pytest.raises(TypeError):
        uselect.poll().register(obj)


def test_register_refuses_negative_and_closed_descriptors():
    p = uselect.poll()
    with pytest.raises(ValueError):
        p.register(-1)
    with pytest.raises(ValueError):
        p.register(Fileno(-5))
    s = socket.socket()
    s.close()  # fileno() is -1 now
    with pytest.raises(OSError) as e:
        p.register(s)
    assert e.value.errno == errno.EBADF
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(OSError) as e:
        p.register(r)
    assert e.value.errno == errno.EBADF
    assert "0 registered" in repr(p)


@pytest.mark.parametrize("mask", [-1, 0x2, 0x40, 1 << 40, 1 << 80])
def test_bad_masks_are_value_errors(pair, mask):
    a, b = pair
    p = uselect.poll()
    with pytest.raises(ValueError):
        p.register(a, mask)
    p.register(a, IN)
    with pytest.raises(ValueError):
        p.modify(a, mask)


@pytest.mark.parametrize("mask", ["1", 1.0, None])
def test_masks_must_be_ints(pair, mask):
    a, b = pair
    with pytest.raises(TypeError):
        uselect.poll().register(a, mask)


def test_error_bits_in_a_mask_are_accepted(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, OUT | ERR | HUP)
    assert p.poll(0) == [(a, OUT)]


@pytest.mark.parametrize("timeout", [1.5, "10", b"1", [1]])
def test_poll_timeout_must_be_an_int(pair, timeout):
    a, b = pair
    p = uselect.poll()
    p.register(a, IN)
    with pytest.raises(TypeError):
        p.poll(timeout)
    with pytest.raises(TypeError):
        p.ipoll(timeout)


def test_poll_timeout_too_large_and_wrong_arg_counts(pair):
    a, b = pair
    p = uselect.poll()
    with pytest.raises(OverflowError):
        p.poll(1 << 70)
    with pytest.raises(TypeError):
        p.poll(1, 2)
    with pytest.raises(TypeError):
        p.register()
    with pytest.raises(TypeError):
        p.register(a, IN, 0)
    with pytest.raises(TypeError):
        p.modify(a)
    with pytest.raises(TypeError):
        p.ipoll(0, 0, 0)


@pytest.mark.parametrize("flags,exc", [(2, ValueError), (-1, ValueError),
                                       (1.0, TypeError), ("1", TypeError)])
def test_ipoll_flags(flags, exc):
    with pytest.raises(exc):
        uselect.poll().ipoll(0, flags)


# ---- waiting ----------------------------------------------------------------


def test_poll_times_out_on_time(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, IN)
    res, dt = elapsed(p.poll, 0)
    assert res == [] and dt < late(0)
    res, dt = elapsed(p.poll, 120)
    assert res == [] and 0.12 <= dt < late(0.12)


def test_negative_or_none_timeout_waits_for_an_event(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, IN)
    threading.Timer(0.1, b.send, (b"x",)).start()
    res, dt = elapsed(p.poll, -1)
    assert res == [(a, IN)] and dt < 2
    a.recv(1)
    threading.Timer(0.1, b.send, (b"x",)).start()
    assert p.poll(None) == [(a, IN)]
    a.recv(1)
    threading.Timer(0.1, b.send, (b"x",)).start()
    assert p.poll(-7) == [(a, IN)]


def test_a_timeout_of_centuries_is_no_limit(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, IN)
    threading.Timer(0.1, b.send, (b"x",)).start()
    res, dt = elapsed(p.poll, (1 << 63) // 1000000 - 1)
    assert res == [(a, IN)] and dt < 2


def test_ipoll_is_an_iterator(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, OUT)
    it = p.ipoll(0)
    assert iter(it) is it
    assert list(it) == [(a, OUT)]
    assert list(p.ipoll()) == [(a, OUT)]


def three_ready():
    """Three socket pairs whose first ends are all readable."""
    pairs = [socket.socketpair() for _ in range(3)]
    for a, b in pairs:
        b.send(b"x")
    return pairs


def test_ipoll_tuples_the_caller_keeps_never_change():
    # ipoll refills a tuple that only it still holds (after `for o, ev in`
    # unpacks it); one the caller keeps must stay what it was.
    pairs = three_ready()
    try:
        p = uselect.poll()
        for a, _ in pairs:
            p.register(a, IN)
        ends = {a for a, _ in pairs}
        kept = list(p.ipoll(0))
        by_obj = lambda t: id(t[0])  # noqa: E731
        assert sorted(kept, key=by_obj) == sorted([(a, IN) for a in ends], key=by_obj)
        it = p.ipoll(0)
        first = next(it)
        rest = [(obj, ev) for obj, ev in it]  # unpacked: refilled in place
        assert first[1] == IN and first[0] in ends
        assert {first[0]} | {obj for obj, _ in rest} == ends
        assert all(ev == IN for _, ev in rest) and len(rest) == 2
        assert kept == [(obj, IN) for obj, _ in kept] and len(set(map(id, kept))) == 3
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def test_ipoll_refilled_tuple_is_tracked_when_its_object_is():
    # A tuple refilled in place may have been untracked by the collector
    # while it held two ints; holding an object the collector tracks, it
    # must be tracked again, or a cycle through it would never be freed.
    a1, b1 = socket.socketpair()
    a2, b2 = socket.socketpair()

    class Holder:
        def __init__(self, s):
            self.s = s

        def fileno(self):
            return self.s.fileno()

    try:
        b1.send(b"x")
        b2.send(b"x")
        h = Holder(a2)
        p = uselect.poll()
        p.register(a1.fileno(), IN)  # ready first: an int, not tracked
        p.register(h, IN)
        it = p.ipoll(0)
        t = next(it)
        assert t == (a1.fileno(), IN)
        del t  # only the iterator holds it now
        gc.collect()  # which untracks a tuple of two ints
        t = next(it)
        assert t[0] is h and t[1] == IN
        assert gc.is_tracked(t)
    finally:
        for s in (a1, b1, a2, b2):
            s.close()


def test_ipoll_yields_each_result_its_own_events():
    # Results with different events in one wait, in both orders: each
    # tuple says its own.
    a, b = socket.socketpair()
    c, d = socket.socketpair()
    try:
        b.send(b"x")
        p = uselect.poll()
        p.register(a, IN | OUT)
        p.register(c, IN | OUT)
        p.register(b, OUT)
        want = {a: IN | OUT, c: OUT, b: OUT}
        for _ in range(2):
            got = {obj: ev for obj, ev in p.ipoll(0)}
            assert got == want
            p.unregister(a)  # now last: the order changes
            p.register(a, IN | OUT)
    finally:
        for s in (a, b, c, d):
            s.close()


def test_ipoll_holds_what_it_has_yet_to_yield():
    # The iterator outlives the wait: objects unregistered and dropped
    # meanwhile are still there, whole, when it reaches them.
    pairs = three_ready()
    p = uselect.poll()
    for a, _ in pairs:
        p.register(a, IN)
    refs = [weakref.ref(a) for a, _ in pairs]
    it = p.ipoll(0)
    for a, b in pairs:
        p.unregister(a)
        b.close()
    del pairs, a, b
    gc.collect()
    got = [obj for obj, ev in it]
    assert len(got) == 3 and all(isinstance(o, socket.socket) for o in got)
    assert all(r() is not None for r in refs)
    for o in got:
        o.close()
    del got, o, it
    gc.collect()
    assert all(r() is None for r in refs)


def test_a_poll_reentered_while_results_are_built_is_refused():
    # A collection run by the allocations that build the results may run
    # Python code (here a gc callback) that polls the same object: it must
    # be refused, not write over the results being read. ipoll's iterator
    # is allocated fresh (poll()'s list and tuples may come from CPython's
    # free lists, which start no collection).
    pairs = three_ready()
    p = uselect.poll()
    for a, _ in pairs:
        p.register(a, IN)
    inner = []

    def reenter(phase, info):
        if phase == "start" and not inner:
            try:
                inner.append(p.poll(0))
            except RuntimeError as e:
                inner.append(e)

    threshold = gc.get_threshold()
    gc.callbacks.append(reenter)
    gc.set_threshold(1)  # every container allocated starts a collection
    try:
        got = list(p.ipoll(0))
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(reenter)
    try:
        assert sorted(got, key=lambda t: id(t[0])) == \
            sorted([(a, IN) for a, _ in pairs], key=lambda t: id(t[0]))
        assert len(inner) == 1 and isinstance(inner[0], RuntimeError)
        assert "concurrent" in str(inner[0])
        assert len(p.poll(0)) == 3  # and the object polls again afterwards
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def test_ipoll_one_shot_disarms_until_modify(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, IN)
    p.register(b, IN)
    b.send(b"x")
    assert list(p.ipoll(0, 1)) == [(a, IN)]
    assert p.poll(0) == []  # still readable, but disarmed
    b.close()
    assert list(p.ipoll(50, 1)) == []  # not even the hang-up
    p.modify(a, IN)
    assert p.poll(0) == [(a, IN | HUP)]  # the peer is gone now
    assert list(p.ipoll(0, 1)) == [(a, IN | HUP)]
    p.register(a, IN)  # registering again re-arms too
    assert p.poll(0) == [(a, IN | HUP)]


def test_hang_up_is_reported_unasked():
    r, w = os.pipe()
    try:
        p = uselect.poll()
        p.register(r, 0)
        assert p.poll(0) == []
        os.close(w)
        assert p.poll(0) == [(r, HUP)]
    finally:
        os.close(r)


def test_regular_files_are_always_ready():
    with tempfile.TemporaryFile() as f:
        p = uselect.poll()
        p.register(f)
        assert p.poll(-1) == [(f, IN | OUT)]
        p.unregister(f)
        assert p.poll(0) == []


def test_closed_socket_still_registered_never_crashes(pair):
    a, _ = pair
    b, c = socket.socketpair()
    p = uselect.poll()
    p.register(a, IN)
    p.register(b, OUT)
    a.close()
    # epoll (Linux) forgets a closed descriptor: a is no longer reported;
    # poll(2) elsewhere reports it as POLLNVAL.
    res = p.poll(0)
    assert (b, OUT) in res
    assert all(o is b or (o is a and ev == NVAL) for o, ev in res)
    p.unregister(a)  # found although fileno() is -1 now
    assert p.poll(0) == [(b, OUT)]
    assert "1 registered" in repr(p)
    b.close()
    c.close()


def test_many_idle_one_ready():
    socks = [socket.socketpair() for _ in range(300)]
    try:
        p = uselect.poll()
        for a, _ in socks:
            p.register(a, IN)
        assert p.poll(0) == []
        socks[123][1].send(b"x")
        assert p.poll(0) == [(socks[123][0], IN)]
    finally:
        for a, b in socks:
            a.close()
            b.close()


def test_gil_is_released_while_waiting(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, IN)
    ticks = []
    t = threading.Thread(target=lambda: ticks.append(p.poll(300)))
    t.start()
    n = 0
    t0 = time.monotonic()
    while t.is_alive() and time.monotonic() - t0 < 5:
        n += 1
    t.join()
    assert ticks == [[]] and n > 1000


def test_concurrent_poll_is_a_runtime_error(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, IN)
    t = threading.Thread(target=p.poll, args=(400,))
    t.start()
    time.sleep(0.1)
    try:
        with pytest.raises(RuntimeError):
            p.poll(0)
        p.register(b, OUT)  # changing the set meanwhile is fine
    finally:
        t.join()
    assert p.poll(0) == [(b, OUT)]


def test_signals_keep_the_deadline(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, IN)
    hits = []
    old = signal.signal(signal.SIGALRM, lambda *_: hits.append(1))
    signal.setitimer(signal.ITIMER_REAL, 0.03, 0.03)
    try:
        res, dt = elapsed(p.poll, 300)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert res == [] and 0.3 <= dt < 0.8
    assert len(hits) >= 3


def test_ctrl_c_interrupts_a_wait_promptly(pair):
    a, b = pair
    p = uselect.poll()
    p.register(a, IN)
    main = threading.get_ident()
    threading.Timer(0.1, signal.pthread_kill, (main, signal.SIGINT)).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        p.poll(-1)
    assert time.monotonic() - t0 < 2
    assert p.poll(0) == []  # still usable


def test_cycles_through_the_poll_object_are_collected():
    r, w = os.pipe()
    try:
        p = uselect.poll()
        obj = Fileno(r)
        obj.poller = p
        p.register(obj, IN)
        ref = weakref.ref(obj)
        del obj, p
        gc.collect()
        assert ref() is None
    finally:
        os.close(r)
        os.close(w)


# ---- select -----------------------------------------------------------------


def test_select_returns_the_objects_passed_in(pair):
    a, b = pair
    wrapper = Fileno(a.fileno())
    assert uselect.select([a], [b], [a], 0) == ([], [b], [])
    b.send(b"x")
    r, w, x = uselect.select([a, wrapper, b], [b, b], [], 1)
    assert r[0] is a and r[1] is wrapper and len(r) == 2
    assert w == [b, b] and x == []


def test_select_timeouts(pair):
    a, b = pair
    res, dt = elapsed(uselect.select, [a], [], [], 0.1)
    assert res == ([], [], []) and 0.1 <= dt < late(0.1)
    res, dt = elapsed(uselect.select, [], [], [], 0)
    assert res == ([], [], []) and dt < late(0)
    threading.Timer(0.1, b.send, (b"x",)).start()
    assert uselect.select((a,), (), (), None) == ([a], [], [])


def test_select_reports_hang_up_as_readable_and_exceptional():
    r, w = os.pipe()
    os.close(w)
    try:
        assert uselect.select([r], [], [r], 0) == ([r], [], [r])
    finally:
        os.close(r)


@pytest.mark.parametrize("args,exc", [
    ((1, [], []), TypeError),
    (([object()], [], []), TypeError),
    (([-1], [], []), ValueError),
    (([], [], [], -1), ValueError),
    (([], [], [], "1"), TypeError),
    (([], []), TypeError),
])
def test_select_bad_input(args, exc):
    with pytest.raises(exc):
        uselect.select(*args)


def test_select_closed_descriptor_is_ebadf():
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(OSError) as e:
        uselect.select([r], [], [], 0)
    assert e.value.errno == errno.EBADF


# ---- usocket sockets --------------------------------------------------------


def test_micropython_page_pattern_times_out_in_1000_ms():
    import usocket  # noqa: F401 - the pattern runs with both imported
    c, s = usocket_pair()
    try:
        poller = uselect.poll()
        poller.register(s, uselect.POLLIN)
        t0 = time.monotonic()
        res = poller.poll(1000)
        dt = time.monotonic() - t0
        if not res:
            timed_out = True
        assert timed_out and 0.95 <= dt <= late(1.0)
    finally:
        c.close()
        s.close()


def test_usocket_sockets_are_reported_as_themselves():
    c, s = usocket_pair()
    try:
        p = uselect.poll()
        p.register(s, IN)
        p.register(c, OUT)
        assert p.poll(0) == [(c, OUT)]
        c.write(b"hello")
        res = p.poll(1000)
        assert sorted(ev for _, ev in res) == [IN, OUT]
        assert {id(o) for o, _ in res} == {id(s), id(c)}
        assert uselect.select([s], [c], [], 0) == ([s], [c], [])
        c.close()
        p.unregister(c)  # closed: found all the same
        assert s.read(5) == b"hello"
        assert list(p.ipoll(1000, 1)) == [(s, IN)]  # EOF is readable
    finally:
        c.close()
        s.close()


def test_closed_usocket_socket_still_registered_is_pollnval():
    c, s = usocket_pair()
    p = uselect.poll()
    p.register(s, IN)
    p.register(c, OUT)
    fd = s.fileno()
    s.close()
    # The poll object holds s: close shuts it down at once (the peer sees
    # EOF) and keeps its number until unregister; on every backend the
    # poll object names it POLLNVAL.
    assert c.read() == b""
    res = p.poll(1000)
    assert (s, NVAL) in res and len(res) == 2
    assert list(p.ipoll(0, 1)) == res  # level-triggered, one-shot too
    assert p.poll(0) == []
    p.modify(s, IN)
    assert p.poll(0) == [(s, NVAL)]
    with pytest.raises(OSError) as e:
        p.register(s)  # fileno() is -1 now
    assert e.value.errno == errno.EBADF
    os.fstat(fd)  # still open: no other file can take the number yet
    p.unregister(s)
    with pytest.raises(OSError):
        os.fstat(fd)  # the last holder closed it
    p.modify(c, OUT)
    [(obj, ev)] = p.poll(0)
    assert obj is c and ev & OUT
    c.close()


def test_poll_object_freed_closes_held_closed_sockets():
    c, s = usocket_pair()
    p = uselect.poll()
    p.register(s, IN)
    fd = s.fileno()
    s.close()
    os.fstat(fd)
    del p
    gc.collect()
    with pytest.raises(OSError):
        os.fstat(fd)
    c.close()
