# mp_kbd_unwind.py: run by MicroPython (test_signals.py drives it). For
# each kind of call, the main thread blocks in one on a fresh connection
# and a thread of this process sends it SIGINT (pthread_kill, through
# ffi); the unix port raises KeyboardInterrupt straight from its handler.
# Then, from the same thread, a second call of the same kind on the same
# socket must work, and close() must close the descriptor for real (gone
# from /proc/self/fd). Prints "ok <kind>" or "bad <kind>: <why>" per
# kind, then "done".
import _thread
import ffi
import os
import socket
import time

libc = ffi.open("libc.so.6")
pthread_self = libc.func("L", "pthread_self", "")
pthread_kill = libc.func("i", "pthread_kill", "Li")
MAIN = pthread_self()
SIGINT = 2
big = b"x" * (4 << 20)

go = _thread.allocate_lock()
go.acquire()
state = {"stop": False}


def sender():
    while True:
        go.acquire()
        if state["stop"]:
            return
        # Long enough for the main thread to be in the kernel wait, even
        # on a busy machine: it has a few lines of Python to run first.
        time.sleep_ms(200)
        pthread_kill(MAIN, SIGINT)


_thread.start_new_thread(sender, ())


def pair():
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(2)
    a = socket.socket()
    a.connect(lsn.getsockname())
    b, _ = lsn.accept()
    return lsn, a, b


def drain(s):
    s.setblocking(False)
    try:
        while s.recv(1 << 20):
            pass
    except OSError:
        pass
    s.settimeout(5)


def interrupted(call):
    """Runs call with SIGINT on its way: True if KeyboardInterrupt ended it."""
    try:
        try:
            go.release()
            call()
            return False
        except OSError as e:
            print("  (first call: %r)" % e)
            time.sleep_ms(400)  # the signal still comes: let it, here
            return False
    except KeyboardInterrupt:
        return True


def gone(fd):
    try:
        os.stat("/proc/self/fd/%d" % fd)
        return False
    except OSError:
        return True


def check(kind):
    lsn, a, b = pair()
    for s in (lsn, a, b):
        s.settimeout(None)
    victim = lsn if kind == "accept" else a
    buf = bytearray(10)
    calls = {
        "recv": lambda: a.recv(10),
        "read": lambda: a.read(3),
        "readinto": lambda: a.readinto(buf, 3),
        "readline": a.readline,
        "accept": lsn.accept,
        "sendall": lambda: a.sendall(big),
        "write": lambda: a.write(big),
    }
    if not interrupted(calls[kind]):
        return "the first call was not ended by KeyboardInterrupt"
    victim.settimeout(5)  # a stuck side would fail fast, not hang
    try:
        if kind == "accept":
            c = socket.socket()
            c.connect(lsn.getsockname())
            conn, _ = lsn.accept()
            conn.close()
            c.close()
        elif kind in ("sendall", "write"):
            drain(b)
            r = a.write(b"y") if kind == "write" else a.sendall(b"y")
            if kind == "write" and r != 1:
                return "second write returned %r" % r
        else:
            b.send(b"hi\n")
            got = calls[kind]()
            if kind == "readinto":
                got = bytes(buf[:got])
            if got != b"hi\n":
                return "second call got %r" % got
    except OSError as e:
        return "second call failed: %r" % e
    fd = victim.fileno()
    victim.close()
    if not gone(fd):
        return "fd %d still open after close()" % fd
    for s in (lsn, a, b):
        s.close()
    return None


for kind in ("recv", "read", "readinto", "readline", "accept", "sendall",
             "write"):
    why = check(kind)
    print("bad %s: %s" % (kind, why) if why else "ok %s" % kind)
state["stop"] = True
go.release()
print("done")
