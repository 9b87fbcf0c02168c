#!/usr/bin/python3
"""py_calls.py: random calls with hostile arguments into usocket and uselect.

Several threads call every function, method and attribute of the two
modules on shared loopback sockets (TCP pairs, UDP pairs, listeners),
buffered streams and poll objects, with arguments meant to hurt: huge and
negative ints, objects whose __index__ or fileno() raises, lies or closes a
socket, sequences whose __len__ lies, released or resized buffers, closed
sockets, wrong types. An ordinary Python exception is an expected answer; a
crash, a sanitizer report or a hang is a finding.

The work is cut into rounds, each in a child process of its own, so that a
crash ends one round and is reported with its seed and the calls that led
to it: each child writes every call into a ring of slots in a file it maps,
which survives the child's death. A round is reproduced, as far as threads
allow, by `--round-seed S`. Every socket has a short timeout and every wait
a short bound, so no call blocks for long.

    py_calls.py [--seed N] [--seconds S] [--calls N] [--threads T]
                [--keep-going] [--round-seed S]
"""
import argparse
import array
import faulthandler
import gc
import heapq
import itertools
import mmap
import os
import pickle
import queue
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings

MSG_TRUNC = 0x20
SLOT = 240
SLOTS = 4096
THREAD_SLOTS = 16
# Most pool sockets are non-blocking, so that a call on a socket with
# nothing to read costs no wait; some wait a little, so that waits (and
# their wake-ups by close, signals and data) are fuzzed too.
TIMEOUTS = [0.0] * 7 + [0.001, 0.001, 0.02]
# No call should take this long (the longest wait asked for is 1 s): one
# that does is reported as a finding, as a hang would be.
SLOW = 10.0
# The parent takes the child's kernel and C stacks and Python tracebacks
# when a thread's call has lasted this long: a stall (a thread that blocks
# holding the interpreter's lock, or threads starved of it) is then seen
# while it lasts, not only by the SLOW calls it leaves behind.
STALL = 6.0


class Ring:
    """The last SLOTS calls, in a file that outlives a crashed child, and
    after them each thread's last call (kept however long ago it began: a
    call that hangs), and last the number of the latest call (the
    heartbeat the parent watches)."""

    def __init__(self, path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.ftruncate(fd, RING_BYTES + 8)
        self.map = mmap.mmap(fd, RING_BYTES + 8)
        os.close(fd)
        self.seq = itertools.count(1)
        self.local = threading.local()

    def note(self, text):
        n = next(self.seq)
        self.local.last = text
        line = ("%d %s" % (n, text)).encode("utf-8", "replace")[: SLOT - 1].ljust(SLOT, b"\0")
        i = (n % SLOTS) * SLOT
        self.map[i : i + SLOT] = line
        if text[:1] == "T" and text[1:2].isdigit():
            i = (SLOTS + int(text[1 : text.index(" ")]) % THREAD_SLOTS) * SLOT
            self.map[i : i + SLOT] = line
        self.map[RING_BYTES : RING_BYTES + 8] = struct.pack("<Q", n)
        return n


RING_BYTES = SLOT * (SLOTS + THREAD_SLOTS)


def progress(path):
    """The number of the child's latest call (0: none yet), and each
    thread's latest (the numbers its slot holds)."""
    try:
        with open(path, "rb") as f:
            f.seek(SLOTS * SLOT)
            data = f.read(THREAD_SLOTS * SLOT + 8)
    except OSError:
        return 0, ()
    if len(data) < THREAD_SLOTS * SLOT + 8:
        return 0, ()
    each = []
    for i in range(0, THREAD_SLOTS * SLOT, SLOT):
        head = data[i : i + 12].split(b" ", 1)[0]
        each.append(int(head) if head.isdigit() else 0)
    return struct.unpack("<Q", data[-8:])[0], tuple(each)


def read_ring(path, last):
    """The last calls, and each thread's last call (where a hang sits)."""
    with open(path, "rb") as f:
        data = f.read(RING_BYTES)
    rows, each = [], []
    for i in range(0, len(data), SLOT):
        text = data[i : i + SLOT].rstrip(b"\0").decode("utf-8", "replace")
        if text:
            (rows if i < SLOTS * SLOT else each).append(text)
    rows.sort(key=lambda t: int(t.split(" ", 1)[0]))
    return rows[-last:], each


# ---- hostile values --------------------------------------------------------


class Idx:
    """An int-like whose __index__ returns a value, raises or runs a hook."""

    def __init__(self, value, hook=None):
        self.value, self.hook = value, hook

    def __index__(self):
        if self.hook:
            self.hook()
        if isinstance(self.value, BaseException):
            raise self.value
        return self.value

    __int__ = __index__

    def __float__(self):
        return float(self.__index__())


class Fileno:
    """A pollable whose fileno() is whatever fn says."""

    def __init__(self, fn):
        self.fn = fn

    def fileno(self):
        return self.fn()


class LyingSeq:
    """A sequence whose __len__ says n but holds items."""

    def __init__(self, items, n):
        self.items, self.n = items, n

    def __len__(self):
        if isinstance(self.n, BaseException):
            raise self.n
        return self.n

    def __getitem__(self, i):
        return self.items[i]


def raiser(exc):
    def fn():
        raise exc

    return fn


class Detached:
    """A descriptor that usocket gave up (detach), to close as a socket is:
    shut down first, which wakes whoever still waits on it."""

    def __init__(self, fd):
        self.fd = fd

    def close(self):
        s = socket.socket(fileno=self.fd)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


class Waker:
    """Closes sockets at set times, from a thread of its own: the waker of
    a call that may block without a time limit.

    Requests come through a SimpleQueue, which takes no lock written in
    Python: the main thread is itself a worker, and the Interrupt its
    signal handler raises could land between a Python lock's acquire and
    the `with` block that releases it, leaving every other thread blocked
    on it for good (a hang of the fuzzer, not of usocket)."""

    def __init__(self):
        self.inbox = queue.SimpleQueue()
        threading.Thread(target=self.run, daemon=True).start()

    def close_later(self, sock, delay):
        self.inbox.put((time.monotonic() + delay, sock))

    def stop(self):
        self.inbox.put(None)

    def run(self):
        due, seq = [], itertools.count()  # (time, seq, socket), a heap
        while True:
            wait = max(0.0, due[0][0] - time.monotonic()) if due else None
            try:
                item = self.inbox.get(timeout=wait)
            except queue.Empty:
                item = ()
            if item is None:
                return
            if item:
                heapq.heappush(due, (item[0], next(seq), item[1]))
            while due and due[0][0] <= time.monotonic():
                try:
                    heapq.heappop(due)[2].close()  # a lingering one takes 1 s
                except Exception:
                    pass


class Fuzz:
    """One child's state: the pool of objects and the threads' call loops."""

    def __init__(self, us, sel, seed, threads, calls, seconds, ring):
        self.us, self.sel = us, sel
        self.seed, self.nthreads, self.ring = seed, threads, ring
        self.budget, self.deadline = calls, time.monotonic() + seconds
        self.count = itertools.count()
        self.made = 0
        self.lock = threading.Lock()
        self.socks, self.streams, self.polls = [], [], []
        self.bufs = [bytearray(64) for _ in range(4)]
        self.subclass = self._subclass()
        self.waker = Waker()
        for i in range(6):
            self.socks.append(None)
            self.refill(i % 3, random.Random(seed + i))
        for i in range(3):
            self.polls.append(sel.poll())
            self.streams.append(None)
            self.refill_stream(i, random.Random(seed - i))

    def _subclass(self):
        us = self.us

        class Sub(us.socket):
            lie = None

            def fileno(self):
                if self.lie is not None:
                    return self.lie()
                return super().fileno()

        return Sub

    def guard(self, s, rng=random):
        s.settimeout(rng.choice(TIMEOUTS))
        return s

    def pair(self, rng):
        """Three sockets for the pool: a TCP pair and its listener, or UDP."""
        us = self.us
        kind = rng.randrange(3)
        if kind == 2:
            a = us.socket(us.AF_INET, us.SOCK_DGRAM)
            a.bind(("127.0.0.1", 0))
            b = us.socket(us.AF_INET, us.SOCK_DGRAM)
            b.connect(a.getsockname())
            a.connect(b.getsockname())
            new = [a, b, us.socket(us.AF_INET6, us.SOCK_DGRAM)]
        else:
            fam, host = (us.AF_INET6, "::1") if kind else (us.AF_INET, "127.0.0.1")
            cls = self.subclass if rng.random() < 0.3 else us.socket
            lst = cls(fam, us.SOCK_STREAM)
            lst.settimeout(1)
            lst.bind((host, 0))
            lst.listen(4)
            cli = us.socket(fam, us.SOCK_STREAM)
            cli.settimeout(1)
            cli.connect(lst.getsockname())
            srv, _ = lst.accept()
            new = [cli, srv, lst]
        return [self.guard(s, rng) for s in new]

    def refill(self, slot, rng):
        try:
            new = self.pair(rng)
        except OSError:
            return
        for i, s in enumerate(new):
            self.socks[(slot * 3 + i) % len(self.socks)] = s
        self.made += 1

    def refill_stream(self, slot, rng):
        try:
            a, b, lst = self.pair(random.Random(rng.randrange(2)))
            lst.close()
            self.socks[rng.randrange(len(self.socks))] = b
            mode = rng.choice(["rb", "wb", "rwb", "rw"])
            f = a.makefile(mode, rng.choice([1, 7, 256, 4096]))
        except (OSError, ValueError):
            return
        self.streams[slot] = f

    # ---- argument makers ---------------------------------------------------

    def sock(self, rng):
        return rng.choice(self.socks)

    def fd_of(self, obj):
        try:
            return obj.fileno()
        except Exception:
            return -1

    def closer(self, rng):
        """A hook that closes a pool socket: a call's target, maybe."""
        s = self.sock(rng)
        return lambda: s.close()

    def int_(self, rng, flags=False):
        v = rng.choice(
            [0, 1, 2, -1, 7, 63, 64, 255, 4096, 65535, 65536, 2**31 - 1, 2**31,
             -(2**31), 2**32, 2**63 - 1, 2**63, -(2**63), 2**64, 10**30, True,
             rng.randrange(-300, 300), rng.randrange(1 << 20)]
        )
        r = rng.random()
        if r < 0.08:
            return Idx(v), "Idx(%d)" % v
        if r < 0.11:
            return Idx(OverflowError("idx")), "Idx(raise)"
        if r < 0.13:
            return Idx(0, self.closer(rng)), "Idx(closes)"
        if r < 0.15:
            return Idx("x"), "Idx(str)"
        if flags and r < 0.5:
            bits = rng.choice([0, 0, 0, 0x2, 0x40, 0x100, 0x42, MSG_TRUNC])
            return bits, "flags%#x" % bits
        return v, str(v)

    def size(self, rng):
        if rng.random() < 0.6:
            v = rng.choice([0, 1, 2, 10, 100, 1500, 4096, 65536, 70000])
            return v, str(v)
        return self.any_or(rng, self.int_)

    def buf(self, rng, writable=False):
        n = rng.choice([0, 1, 5, 100, 1500, 4096, 65536, 1 << 20])
        r = rng.random()
        if r < 0.25:
            return (b"w" * n if not writable else bytearray(n)), "b%d" % n
        if r < 0.45:
            return bytearray(n), "ba%d" % n
        if r < 0.55:
            return memoryview(bytearray(n)), "mv%d" % n
        if r < 0.6:
            return memoryview(bytearray(n))[::2], "mv%d[::2]" % n
        if r < 0.65:
            m = memoryview(bytearray(n))
            m.release()
            return m, "mv(released)"
        if r < 0.7:
            return memoryview(b"r" * n), "mv(ro)%d" % n
        if r < 0.75:
            return array.array("i", bytes(n & ~3)), "array%d" % n
        if r < 0.8:
            return memoryview(bytearray(n & ~7)).cast("q"), "mv(q)%d" % n
        if r < 0.9:
            return rng.choice(self.bufs), "shared-ba"
        return self.wrong(rng)

    def wrong(self, rng):
        v = rng.choice([None, "text", 1.5, [], (), {}, object(), b"", 3, -1])
        return v, "wrong:%s" % type(v).__name__

    def any_or(self, rng, maker, *a, **k):
        if rng.random() < 0.1:
            return self.wrong(rng)
        return maker(rng, *a, **k)

    def addr(self, rng, bind=False):
        us = self.us
        r = rng.random()
        s = self.sock(rng)
        if r < 0.35:
            try:
                a = rng.choice([s.getsockname, s.getpeername])()
                if rng.random() < 0.5:
                    return a, "sockaddr"
                return tuple(a), "tuple(sockaddr)"
            except OSError:
                pass
        port = rng.choice([0, 1, 9, 65535, 65536, -1, 2**63, rng.randrange(1, 65536)])
        choices = [
            ("127.0.0.1", port),
            ("::1", port, 0, 0),
            ("::1", port, rng.choice([1, 2**32, -1]), 0),
            ("::1", port, 0, rng.choice([1, 2**32, -1, 2**64])),
            ("127.0.0.1",),
            ("127.0.0.1", port, 0, 0, 0),
            ("127.0.0.1", "80"),
            (b"127.0.0.1", port),
            ("127.0.0.1", Idx(port)),
            ("127.0.0.1", Idx(ValueError("p"))),
            ("::1%", port, 0, 0),
            ("::1%4294967296", port, 0, 0),
            (1, 2),
            "127.0.0.1",
            None,
        ]
        if bind:
            choices += [("", port), ("0.0.0.0", port), ("fe80::1%lo", port, 0, 0)]
        if us.AF_INET6 and rng.random() < 0.02:
            return us.getaddrinfo("127.0.0.1", port % 65536)[0][4], "gai-sockaddr"
        a = rng.choice(choices)
        return a, "addr%r" % (a,)

    def pollable(self, rng, for_poll=False):
        """Something with a descriptor, or that pretends to have one."""
        r = rng.random()
        s = self.sock(rng)
        if r < 0.35:
            return s, "sock"
        if r < 0.45:
            f = rng.choice(self.streams)
            return f, "stream"
        if r < 0.55:
            return self.fd_of(s), "fd"
        if r < 0.6:
            v, lab = self.int_(rng)
            return v, "int:" + lab
        fns = [
            (raiser(ValueError("fileno")), "raises"),
            (lambda: -1, "-1"),
            (lambda: 2**63, "2**63"),
            (lambda: "3", "str"),
            (lambda: None, "None"),
            (lambda: self.fd_of(self.sock(rng)), "other-fd"),
            (lambda: (s.close(), self.fd_of(s))[1], "closes-then-fd"),
        ]
        if rng.random() < 0.1:
            fns.append((lambda: 2**31 - 1, "2**31-1"))
        fn, lab = rng.choice(fns)
        if r < 0.85:
            return Fileno(fn), "Fileno(%s)" % lab
        sub = self.subclass(self.us.AF_INET, self.us.SOCK_DGRAM)
        sub.settimeout(0)
        sub.lie = fn
        return sub, "Sub(%s)" % lab

    def mask(self, rng):
        sel = self.sel
        if rng.random() < 0.7:
            m = rng.choice([sel.POLLIN, sel.POLLOUT, sel.POLLIN | sel.POLLOUT, 0,
                            sel.POLLERR | sel.POLLHUP | sel.POLLNVAL])
            return m, str(m)
        return self.any_or(rng, self.int_)

    def timeout(self, rng):
        v = rng.choice([0, 0.0, 0.001, 0.01, 0.02, -1, -0.5, float("nan"),
                        float("-inf"), 2**63, 1e300 * 10, "1", Idx(0),
                        Idx(RuntimeError("t")), None])
        return v, "t=%r" % (v,)

    # ---- the calls ---------------------------------------------------------

    def call_sock(self, rng, tid, st):
        s = self.sock(rng)
        names = ["close", "bind", "listen", "accept", "connect", "send", "sendall",
                 "recv", "recv_into", "sendto", "recvfrom", "read", "readinto",
                 "readline", "write", "setsockopt", "getsockopt", "settimeout",
                 "setblocking", "gettimeout", "getblocking", "makefile", "fileno",
                 "detach", "shutdown", "getsockname", "getpeername", "enter_exit",
                 "attrs", "repr"]
        name = rng.choice(names)
        args, labs = [], []

        def add(pair):
            args.append(pair[0])
            labs.append(pair[1])

        us = self.us
        if name in ("bind", "connect"):
            add(self.addr(rng, bind=name == "bind"))
        elif name == "listen":
            if rng.random() < 0.7:
                add(self.int_(rng))
        elif name in ("send", "sendall", "write"):
            add(self.buf(rng))
            if name != "write" and rng.random() < 0.5:
                add(self.int_(rng, flags=True))
        elif name in ("recv", "recvfrom"):
            add(self.size(rng))
            if rng.random() < 0.5:
                add(self.int_(rng, flags=True))
        elif name in ("recv_into", "readinto"):
            add(self.buf(rng, writable=True))
            if rng.random() < 0.5:
                add(self.size(rng))
                if name == "recv_into" and rng.random() < 0.5:
                    add(self.int_(rng, flags=True))
        elif name == "sendto":
            add(self.buf(rng))
            if rng.random() < 0.3:
                add(self.int_(rng, flags=True))
            add(self.addr(rng))
        elif name in ("read", "readline"):
            if rng.random() < 0.6:
                add(self.size(rng))
        elif name == "setsockopt":
            add(self.level(rng))
            opt = self.option(rng)
            add(opt)
            if getattr(opt[0], "value", opt[0]) == us.SO_LINGER:
                add(self.linger(rng))
            elif rng.random() < 0.5:
                add(self.int_(rng))
            else:
                add(self.buf(rng))
        elif name == "getsockopt":
            add(self.level(rng))
            add(self.option(rng))
            if rng.random() < 0.4:
                add(self.int_(rng))
        elif name in ("settimeout", "setblocking"):
            v = (self.timeout(rng) if name == "settimeout" else
                 rng.choice([(True, "True"), (False, "False"), (0, "0"),
                             (Idx(1), "Idx(1)"), (Idx(KeyError()), "Idx(raise)")]))
            add(v)
            if v[0] is None or (name == "setblocking" and v[0] is not False and v[0] != 0):
                # Until guard() below gives it a timeout again, the socket
                # blocks: a call another thread starts on it meanwhile
                # would wait for ever for bytes that may never come.
                # Closing it a little later wakes such a call.
                self.waker.close_later(s, 0.5)
        elif name == "makefile":
            if rng.random() < 0.8:
                add(rng.choice([("rb", "rb"), ("wb", "wb"), ("rwb", "rwb"), ("r", "r"),
                                ("x", "x"), ("", "''"), (b"rb", "b'rb'"), (3, "3")]))
                if rng.random() < 0.8:
                    add(rng.choice([(0, "0"), (1, "1"), (16, "16"), (4096, "4096"),
                                    (16 << 20, "16M"), ((16 << 20) + 1, "16M+1")])
                        if rng.random() < 0.7 else self.int_(rng))
        elif name == "shutdown":
            add(self.int_(rng) if rng.random() < 0.3 else
                rng.choice([(0, "0"), (1, "1"), (2, "2")]))
        if rng.random() < 0.03:
            add(self.wrong(rng))
        elif rng.random() < 0.03 and args:
            args.pop()
            labs.pop()
        self.ring.note("T%d sock%d.%s(%s)" % (tid, id(s) % 997, name, ", ".join(labs)))
        if name == "enter_exit":
            with s:
                pass
            return
        if name == "attrs":
            for a in ("family", "type", "proto", "timeout"):
                getattr(s, a)
            try:
                s.family = 3
            except AttributeError:
                pass
            return
        if name == "repr":
            repr(s)
            return
        res = getattr(s, name)(*args)
        if name == "settimeout" or name == "setblocking":
            self.guard(s, rng)
        elif name == "accept":
            c, a = res
            self.guard(c, rng)
            tuple(a)
            self.socks[rng.randrange(len(self.socks))] = c
        elif name == "detach":
            # Another thread's call may still wait on the descriptor, which
            # a bare close(2) would not wake: shut down, then closed, later.
            self.waker.close_later(Detached(res), 0.5)
        elif name == "makefile" and res is not s:
            self.streams[rng.randrange(len(self.streams))] = res

    def linger(self, rng):
        """A struct linger: on with a time of at most 1 s (no wait asked for
        is longer; a close with bytes the peer never takes lingers that
        long), off with any time, or of a wrong size."""
        r = rng.random()
        if r < 0.6:
            on, t = 1, rng.choice([0, 1])
        elif r < 0.8:
            on, t = 0, rng.choice([0, 1, -1, 2**31 - 1])
        else:
            v = rng.choice([b"", b"\1", b"\1\0\0\0", 7])
            return v, "linger(%r)" % (v,)
        return struct.pack("ii", on, t), "linger(%d, %d)" % (on, t)

    def level(self, rng):
        us = self.us
        if rng.random() < 0.7:
            v = rng.choice([us.SOL_SOCKET, us.IPPROTO_TCP, us.IPPROTO_IP, us.IPPROTO_IPV6])
            return v, "lvl%d" % v
        return self.int_(rng)

    def option(self, rng):
        us = self.us
        if rng.random() < 0.7:
            v = rng.choice([us.SO_REUSEADDR, us.SO_KEEPALIVE, us.SO_RCVBUF, us.SO_SNDBUF,
                            us.SO_LINGER, us.SO_ERROR, us.SO_TYPE, us.TCP_NODELAY,
                            us.IP_MULTICAST_TTL, us.IP_MULTICAST_LOOP,
                            us.IP_ADD_MEMBERSHIP, us.IPV6_V6ONLY])
            return v, "opt%d" % v
        return self.int_(rng)

    def call_stream(self, rng, tid, st):
        i = rng.randrange(len(self.streams))
        f = self.streams[i]
        if f is None:
            return
        name = rng.choice(["read", "readline", "readinto", "write", "flush", "close",
                           "fileno", "readable", "writable", "iter", "enter_exit",
                           "closed", "repr", "write", "read", "readline"])
        args, labs = [], []
        if name in ("read", "readline") and rng.random() < 0.6:
            a, lab = self.size(rng)
            args.append(a)
            labs.append(lab)
        elif name == "readinto":
            a, lab = self.buf(rng, writable=True)
            args.append(a)
            labs.append(lab)
        elif name == "write":
            a, lab = self.buf(rng)
            args.append(a)
            labs.append(lab)
        self.ring.note("T%d stream%d.%s(%s)" % (tid, id(f) % 997, name, ", ".join(labs)))
        if name == "iter":
            for _ in zip(range(3), f):
                pass
        elif name == "enter_exit":
            with f:
                pass
        elif name == "closed":
            f.closed
        elif name == "repr":
            repr(f)
        else:
            getattr(f, name)(*args)

    def call_poll(self, rng, tid, st):
        own = rng.random() < 0.3
        p = st["poll"] if own else rng.choice(self.polls)
        name = rng.choice(["register", "register", "unregister", "modify", "poll",
                           "ipoll", "new"])
        args, labs = [], []
        if name in ("register", "unregister", "modify"):
            a, lab = self.pollable(rng, for_poll=True)
            args.append(a)
            labs.append(lab)
            if name != "unregister" and (name == "modify" or rng.random() < 0.7):
                a, lab = self.mask(rng)
                args.append(a)
                labs.append(lab)
        elif name in ("poll", "ipoll"):
            r = rng.random()
            if own and r < 0.1:
                # An unbounded wait, on a poll object no other thread touches,
                # holding a socket that is always writable.
                p.register(st["beacon"], self.sel.POLLOUT)
                v = rng.choice([-1, None, -(2**31), -(2**63) - 1, Idx(-5)])
                args.append(v)
                labs.append("forever:%r" % (v,))
            elif r < 0.8:
                args.append(rng.choice([0, 1, 5, 20]))
                labs.append(str(args[-1]))
            else:
                v = rng.choice([2**63, 2**64, 1.5, "1", [], Idx(ValueError())])
                args.append(v)
                labs.append("t=%r" % (v,))
            if name == "ipoll" and rng.random() < 0.5:
                a, lab = self.any_or(rng, self.int_)
                args.append(a)
                labs.append(lab)
        self.ring.note("T%d poll%d.%s(%s)" % (tid, id(p) % 997, name, ", ".join(labs)))
        if name == "new":
            self.polls[rng.randrange(len(self.polls))] = self.sel.poll()
            return
        res = getattr(p, name)(*args)
        if name == "poll":
            for obj, ev in res:
                self.fd_of(obj)
        elif name == "ipoll":
            for obj, ev in itertools.islice(res, rng.randrange(4)):
                if rng.random() < 0.2:
                    p.unregister(obj)

    def seq(self, rng, items, tid):
        r = rng.random()
        if r < 0.5:
            return list(items), "list"
        if r < 0.6:
            return tuple(items), "tuple"
        if r < 0.7:
            n = rng.choice([0, len(items) + 3, -1, 2**63, ValueError("len")])
            return LyingSeq(items, n), "LyingSeq(%r)" % (n,)
        if r < 0.75:
            return iter(items), "iter"
        if r < 0.8:
            return set(), "set"
        if r < 0.85:
            lst = list(items)

            def grow():
                lst.extend([self.sock(rng)] * rng.choice([1, 100, 2000]))
                if rng.random() < 0.5:
                    lst.clear()
                return self.fd_of(self.sock(rng))

            lst.append(Fileno(grow))
            return lst, "mutating-list"
        return self.wrong(rng)

    def call_select(self, rng, tid, st):
        lists, labs = [], []
        for _ in range(3):
            items = [self.pollable(rng)[0] for _ in range(rng.randrange(5))]
            v, lab = self.seq(rng, items, tid)
            lists.append(v)
            labs.append(lab)
        t, tlab = rng.choice([(0, "0"), (0.001, "0.001"), (0.02, "0.02"), (None, None),
                              (None, "none")])
        if tlab is None:
            t, tlab = self.timeout(rng)
        if tlab == "none" or t is None or t == 1e300 * 10 or t == 2**63:
            # An unbounded wait: the always-writable beacon leads wlist.
            lists[1] = ([st["beacon"]] + list(lists[1]) if isinstance(lists[1], list)
                        else [st["beacon"]])
        args = lists + ([t] if tlab != "none" else [])
        self.ring.note("T%d select(%s, %s)" % (tid, ", ".join(labs), tlab))
        r, w, x = self.sel.select(*args)
        for obj in r + w + x:
            self.fd_of(obj)

    def call_module(self, rng, tid, st):
        us = self.us
        name = rng.choice(["getaddrinfo", "inet_ntop", "inet_pton", "socket", "sockaddr",
                           "resize"])
        if name == "getaddrinfo":
            host = rng.choice([None, "127.0.0.1", "::1", b"127.0.0.1", "x\0y", 123,
                               "::ffff:1.2.3.4", "\u20ac"])
            port = rng.choice([0, 80, "80", b"80", -1, 65536, 2**63, None, "http",
                               Idx(8), 1.5])
            more = [self.any_or(rng, self.int_)[0] for _ in range(rng.randrange(5))]
            if len(more) == 4 and isinstance(more[3], int) and isinstance(host, str):
                more[3] |= us.AI_NUMERICHOST
            elif isinstance(host, str):
                more = (more + [0, 0, 0, 0])[:3] + [us.AI_NUMERICHOST]
            self.ring.note("T%d getaddrinfo(%r, %r, %r)" % (tid, host, port, more))
            for row in us.getaddrinfo(host, port, *more):
                tuple(row[4])
        elif name == "inet_ntop":
            af = rng.choice([us.AF_INET, us.AF_INET6, 0, -1, 2**63])
            b, lab = self.buf(rng)
            if rng.random() < 0.5:
                b, lab = bytes(rng.choice([4, 16, 0, 5])), "packed"
            self.ring.note("T%d inet_ntop(%r, %s)" % (tid, af, lab))
            us.inet_ntop(af, b)
        elif name == "inet_pton":
            af = rng.choice([us.AF_INET, us.AF_INET6, 0, -1, 2**63])
            t = rng.choice(["1.2.3.4", "::1", "", "1.2.3.4\0", "x" * 1000, "::ffff:1.2.3.4",
                            "1:2:3:4:5:6:7:8:9", b"1.2.3.4", None])
            self.ring.note("T%d inet_pton(%r, %r)" % (tid, af, t[:20] if t else t))
            us.inet_pton(af, t)
        elif name == "socket":
            args = [self.any_or(rng, self.int_)[0] if rng.random() < 0.3 else
                    rng.choice([us.AF_INET, us.AF_INET6, us.SOCK_STREAM, us.SOCK_DGRAM, 0])
                    for _ in range(rng.randrange(5))]
            self.ring.note("T%d socket(%r)" % (tid, args))
            s = us.socket(*args)
            self.guard(s, rng)
            if rng.random() < 0.3:
                self.socks[rng.randrange(len(self.socks))] = s
            else:
                s.close()
        elif name == "sockaddr":
            s = self.sock(rng)
            self.ring.note("T%d sockaddr ops" % tid)
            a = rng.choice([s.getsockname, s.getpeername])()
            for i in (0, 1, -1, 3, 2**63, Idx(1), Idx(ValueError())):
                try:
                    a[i]
                except (IndexError, TypeError, ValueError, OverflowError):
                    pass
            len(a), hash(a), repr(a), list(a), a.family, a.host, a.port
            a == tuple(a), a == 3, a != a
            pickle.loads(pickle.dumps(a))
            type(a)()
        else:
            b = rng.choice(self.bufs)
            self.ring.note("T%d resize shared bytearray" % tid)
            if rng.random() < 0.5:
                b.extend(b"x" * rng.choice([1, 4096, 1 << 16]))
            else:
                del b[rng.randrange(len(b) + 1) :]

    # ---- the loops ---------------------------------------------------------

    def worker(self, tid, out):
        rng = random.Random("%d/%d" % (self.seed, tid))
        us = self.us
        st = {"poll": self.sel.poll()}
        st["beacon"] = self.guard(us.socket(us.AF_INET, us.SOCK_DGRAM))
        kinds = [self.call_sock] * 6 + [self.call_stream] * 2 + [self.call_poll] * 2 + \
                [self.call_select, self.call_module]
        n = 0
        try:
            while True:
                # A signal's Interrupt may land anywhere, not only in a call.
                try:
                    if time.monotonic() >= self.deadline or next(self.count) >= self.budget:
                        break
                    n += 1
                    r = rng.random()
                    if r < 0.01:
                        self.refill(rng.randrange(2), rng)
                    elif r < 0.015:
                        self.refill_stream(rng.randrange(len(self.streams)), rng)
                    else:
                        t0, cpu0 = time.monotonic(), time.process_time()
                        try:
                            ARMED[0] = tid == 0
                            rng.choice(kinds)(rng, tid, st)
                        finally:
                            ARMED[0] = False
                            dt = time.monotonic() - t0
                            if dt > SLOW:
                                # The process's CPU time meanwhile tells a
                                # stall (little: blocked, or not scheduled)
                                # from other threads hogging the GIL.
                                sys.stderr.write(
                                    "py_calls: SLOW call (%.1f s, process CPU %.1f s, "
                                    "ended %.3f): %s\n"
                                    % (dt, time.process_time() - cpu0, t0 + dt,
                                       getattr(self.ring.local, "last", "?")))
                except (Exception, Interrupt):
                    pass
        finally:
            out[tid] = n
            try:
                st["beacon"].close()
            except Exception:
                pass

    def run(self):
        out = [0] * self.nthreads
        ts = [threading.Thread(target=self.worker, args=(i, out), daemon=True)
              for i in range(1, self.nthreads)]
        for t in ts:
            t.start()
        self.worker(0, out)
        for t in ts:
            t.join(max(0.0, self.deadline - time.monotonic()) + 10)
        stuck = [t for t in ts if t.is_alive()]
        if stuck:
            self.ring.note("HANG: %d threads still in a call" % len(stuck))
            native_stacks(os.getpid(), sys.stderr)
            faulthandler.dump_traceback(all_threads=True)
            sys.stderr.write("py_calls: HANG: a call did not return\n")
            sys.stderr.flush()
            os._exit(3)
        # Dropping everything at once runs every object's teardown, with
        # some still registered in poll objects.
        self.ring.note("teardown")
        self.waker.stop()
        self.socks.clear()
        self.streams.clear()
        self.polls.clear()
        gc.collect()
        return sum(out)


class Interrupt(BaseException):
    """What the signal handler raises: a Ctrl-C in the middle of a call."""


ARMED = [False]  # True only while the main thread is inside a fuzzed call


def on_signal(signum, frame):
    if ARMED[0] and random.random() < 0.5:
        raise Interrupt()


def child(args):
    import usocket
    import uselect

    warnings.simplefilter("ignore")
    sys.unraisablehook = lambda u: None
    sys.setswitchinterval(rng_switch(args.round_seed))
    faulthandler.enable()
    faulthandler.dump_traceback_later(args.seconds + 30, exit=True)
    # The parent's stall report: every thread's traceback, written by C
    # code that needs no interpreter lock.
    faulthandler.register(signal.SIGUSR2, all_threads=True)
    ring = Ring(args.log)
    ring.note("round seed %d" % args.round_seed)
    fz = Fuzz(usocket, uselect, args.round_seed, args.threads, args.calls,
              args.seconds, ring)
    # Signals land on the main thread (a worker too) in the middle of calls.
    signal.signal(signal.SIGUSR1, on_signal)
    stop = threading.Event()

    def pester():
        rng = random.Random(args.round_seed)
        while not stop.wait(rng.choice([0.001, 0.01, 0.1])):
            signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)

    pt = threading.Thread(target=pester, daemon=True)
    pt.start()
    try:
        n = fz.run()
    finally:
        stop.set()
        pt.join(5)
    print("calls %d" % n, flush=True)


def rng_switch(seed):
    # A short switch interval shuffles threads between calls more often.
    return random.Random(seed).choice([0.0001, 0.001, 0.005])


# ---- the parent: rounds, each a child ---------------------------------------


def netns_prefix():
    """A network namespace of its own for each child, when one can be made:
    whatever a call sends, it cannot leave the machine's loopback."""
    cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    try:
        ok = subprocess.run(cmd + ["true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return cmd if ok else []


def native_stacks(pid, err):
    """A stuck child's C stacks (where a lock or the GIL is held), by gdb
    if there is one, into the child's stderr before its watchdog's dump."""
    cmd = ["gdb", "-p", str(pid), "-batch", "-nx", "-ex", "thread apply all bt 30"]
    err.flush()
    kernel_stacks(pid, err)  # first: gdb's attach interrupts some waits
    os.write(err.fileno(), b"py_calls: a call is stuck; the child's native stacks:\n")
    try:
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        subprocess.run(cmd, stdout=err.fileno(), stderr=subprocess.DEVNULL, timeout=60,
                       env=env)
    except (OSError, subprocess.TimeoutExpired):
        os.write(err.fileno(), b"py_calls: (no gdb)\n")


def kernel_stacks(pid, err):
    """Where each of the child's threads is in the kernel: asleep in a
    system call (its wait channel and stack show where), or runnable (R)
    and waiting for a CPU (its run delay, the time it has spent so, grows
    between two looks: the machine, not the child, is stalled)."""
    lines = []
    for look in (1, 2):
        lines.append("py_calls: the child's kernel stacks (look %d; load %s; cpu pressure %s):"
                     % (look, read_text("/proc/loadavg"),
                        read_text("/proc/pressure/cpu").split("\n")[0]))
        task = "/proc/%d/task" % pid
        try:
            tids = sorted(os.listdir(task), key=int)
        except OSError:
            tids = []
        for tid in tids:
            at = os.path.join(task, tid)
            stat = read_text(os.path.join(at, "stat"))
            state = stat[stat.rfind(")") + 2 :][:1] or "?"
            delay = read_text(os.path.join(at, "schedstat")).split()
            lines.append("task %s %s: state %s, run delay %s ms, wchan %s, syscall %s"
                         % (tid, read_text(os.path.join(at, "comm")), state,
                            int(delay[1]) // 1000000 if len(delay) > 1 else "?",
                            read_text(os.path.join(at, "wchan")),
                            read_text(os.path.join(at, "syscall")).split(" ")[0]))
            if look == 1:
                lines += ["    " + ln for ln in read_text(os.path.join(at, "stack")).splitlines()]
        if look == 1:
            time.sleep(0.5)
    os.write(err.fileno(), ("\n".join(lines) + "\n").encode())


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "?"


def run_delay(pid):
    """The time the child's threads have spent runnable, waiting for a CPU,
    in all (s), or None once it is gone."""
    task = "/proc/%d/task" % pid
    try:
        tids = os.listdir(task)
    except OSError:
        return None
    total = 0
    for tid in tids:
        f = read_text(os.path.join(task, tid, "schedstat")).split()
        if len(f) > 1 and f[1].isdigit():
            total += int(f[1])
    return total / 1e9


def watch_stall(p, log, err, deadline, starved):
    """Waits for the child until deadline (TimeoutExpired after it). The
    first time a thread's call lasts STALL seconds (all threads: one holds
    the interpreter's lock while it blocks; some: they starve), writes
    into the child's stderr its kernel and C stacks and every thread's
    Python traceback. Appends to starved each time (from, to) in which no
    call began while the child waited for a CPU (its run delay grew by
    half the time or more): the machine, not the child, stalled. A thread
    stuck while others go on is never excused so."""
    seen, since, told = (), [], False
    last, delay, beat = time.monotonic(), None, 0
    while p.poll() is None:
        now = time.monotonic()
        if now >= deadline:
            raise subprocess.TimeoutExpired(p.args, 0)
        was, delay = delay, run_delay(p.pid)
        before, (beat, each) = beat, progress(log)
        if now - last > 2.0:
            err.flush()
            os.write(err.fileno(), b"py_calls: the parent too was stopped for %.1f s\n"
                     % (now - last))
            since = [now] * len(since)
        if (beat == before and was is not None and delay is not None
                and delay - was >= (now - last) / 2):
            starved.append((last, now))
        last = now
        if len(each) != len(seen):
            seen, since = each, [now] * len(each)
        for i, n in enumerate(each):
            if n != seen[i] or not n:
                since[i] = now
        seen = each
        stuck = [i for i, t in enumerate(since) if now - t >= STALL]
        if stuck and not told:
            told, look = True, now
            err.flush()
            os.write(err.fileno(), ("py_calls: STALL: thread(s) %s in a call for %.1f s, "
                                    "latest call #%d\n" % (stuck, STALL, beat)).encode())
            native_stacks(p.pid, err)
            try:
                p.send_signal(signal.SIGUSR2)  # then the Python tracebacks
                time.sleep(0.2)
            except OSError:
                pass
            # gdb stopped the child meanwhile: that time is not its own.
            last = time.monotonic()
            starved.append((look, last))
        time.sleep(0.1)


SLOW_LINE = re.compile(r"py_calls: SLOW call \(([0-9.]+) s, process CPU [0-9.]+ s, "
                       r"ended ([0-9.]+)\)")


def slow_calls(err, starved):
    """The SLOW calls in a child's stderr as (seconds, seconds of it the
    machine starved the child), and whether each is a finding: what is
    left of it once the waits for a CPU are taken off is still SLOW."""
    out = []
    for m in SLOW_LINE.finditer(err):
        dt, end = float(m.group(1)), float(m.group(2))
        begin = end - dt
        waited = sum(max(0.0, min(end, b) - max(begin, a)) for a, b in starved)
        out.append((dt, waited, dt - waited > SLOW))
    return out


def run_round(args, round_seed, tmp):
    log = os.path.join(tmp, "ring")
    errf = os.path.join(tmp, "stderr")
    cmd = args.prefix + [sys.executable, os.path.abspath(__file__), "--child",
           "--round-seed", str(round_seed), "--log", log,
           "--threads", str(args.threads), "--calls", str(args.round_calls),
           "--seconds", str(args.round_seconds)]
    with open(errf, "wb") as err:
        # In the round's directory: an address the fuzzer makes up ("127.0.0.1")
        # is a path to an AF_UNIX socket, and its bind creates that file.
        # The module path is the caller's, made absolute for that.
        env = dict(os.environ)
        if env.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.pathsep.join(
                os.path.abspath(d) for d in env["PYTHONPATH"].split(os.pathsep) if d)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, cwd=tmp,
                             env=env)
        starved = []
        try:
            # The child's own watchdog ends it at round_seconds + 30.
            watch_stall(p, log, err, time.monotonic() + args.round_seconds + 25, starved)
            out, _ = p.communicate(timeout=1)
        except subprocess.TimeoutExpired:
            native_stacks(p.pid, err)
            try:
                out, _ = p.communicate(timeout=35)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
    with open(errf, "rb") as f:
        err = f.read().decode("utf-8", "replace")
    text = out.decode("utf-8", "replace")
    calls = int(text.split()[-1]) if text.startswith("calls ") else 0
    slow = slow_calls(err, starved)
    # A SLOW line this cannot read counts as a finding.
    bad = p.returncode != 0 or any(s[2] for s in slow) or \
        err.count("py_calls: SLOW call") != len(slow) or any(
        m in err for m in ("AddressSanitizer", "runtime error:", "Fatal Python error",
                           "LeakSanitizer", "ThreadSanitizer"))
    if slow and not bad:
        # The machine, not usocket: every thread waited on the one that
        # held the interpreter's lock while it waited for a CPU.
        print("py_calls: round seed %d: %d SLOW call(s) (%s s) excused: the child "
              "waited for a CPU for %s s of them"
              % (round_seed, len(slow), ", ".join("%.1f" % s[0] for s in slow),
                 ", ".join("%.1f" % s[1] for s in slow)), flush=True)
    return calls, (p.returncode, err, read_ring(log, args.last)) if bad else None


def report(round_seed, finding, args):
    rc, err, (last, each) = finding
    print("\npy_calls: FINDING in round seed %d (exit %s)" % (round_seed, rc))
    print("py_calls: reproduce with: %s %s --round-seed %d --threads %d"
          % (sys.executable, os.path.relpath(__file__), round_seed, args.threads))
    lines = err.splitlines()
    print("---- child's stderr (last %d lines) ----" % args.err_lines)
    print("\n".join(lines[-args.err_lines:]))
    print("---- the last %d calls ----" % len(last))
    print("\n".join(last))
    print("---- each thread's last call ----")
    print("\n".join(each))
    sys.stdout.flush()


def parent(args):
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print("py_calls: seed %d, %d threads, up to %s calls / %s s%s"
          % (seed, args.threads, args.calls, args.seconds,
             ", keep going" if args.keep_going else ""), flush=True)
    master = random.Random(seed)
    t0 = time.monotonic()
    total, rounds, findings = 0, 0, 0
    with tempfile.TemporaryDirectory(prefix="py_calls.") as tmp:
        while total < args.calls and time.monotonic() - t0 < args.seconds:
            round_seed = master.randrange(1 << 31)
            calls, finding = run_round(args, round_seed, tmp)
            total += calls
            rounds += 1
            if finding:
                findings += 1
                report(round_seed, finding, args)
                if not args.keep_going:
                    break
            if args.verbose:
                print("py_calls: round %d: %d calls" % (rounds, calls), flush=True)
    secs = time.monotonic() - t0
    print("py_calls: seed %d: %d calls in %d rounds, %.0f s (%.0f calls/s), %d findings"
          % (seed, total, rounds, secs, total / max(secs, 1e-9), findings))
    return 1 if findings else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--calls", type=int, default=10**9)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--round-calls", type=int, default=30000)
    ap.add_argument("--round-seconds", type=float, default=20)
    ap.add_argument("--keep-going", action="store_true")
    ap.add_argument("--last", type=int, default=40)
    ap.add_argument("--err-lines", type=int, default=400)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--round-seed", type=int)
    ap.add_argument("--log")
    args = ap.parse_args()
    if args.child:
        return child(args)
    args.prefix = netns_prefix()
    if args.round_seed is not None:
        # One round again, in a child as usual, to reproduce a finding.
        with tempfile.TemporaryDirectory(prefix="py_calls.") as tmp:
            args.round_calls = min(args.calls, args.round_calls)
            args.round_seconds = min(args.seconds, args.round_seconds)
            calls, finding = run_round(args, args.round_seed, tmp)
        print("py_calls: round seed %d: %d calls" % (args.round_seed, calls))
        if finding:
            report(args.round_seed, finding, args)
            return 1
        return 0
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
