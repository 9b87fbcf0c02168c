# mp_sigint_thread.py: run by MicroPython (test_signals.py drives it). A
# thread of this process sends SIGINT to the main thread (pthread_kill,
# through ffi) at random moments while the main thread is blocked in one
# call of the kind named in argv[1], argv[2] times; having to take the
# interpreter lock first, the sender tends to fire just as the call
# releases it to wait: the riskiest moment. Prints "slack <us>" (the worst
# plain thread wake-up, measured alike), then one line per delivery that
# was not ended by KeyboardInterrupt within 100 ms plus that slack, then
# "done <deliveries>".
import _thread
import ffi
import socket
import sys
import time

kind, n = sys.argv[1], int(sys.argv[2])
port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
libc = ffi.open("libc.so.6")
pthread_self = libc.func("L", "pthread_self", "")
pthread_kill = libc.func("i", "pthread_kill", "Li")
MAIN = pthread_self()
SIGINT = 2
big = b"x" * (4 << 20)
seed = 4242


def rand(m):
    global seed
    seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    return seed % m


go = _thread.allocate_lock()
go.acquire()
woke = _thread.allocate_lock()
woke.acquire()
state = {"sent": 0, "done": False, "rescue": None, "stop": False,
         "signal": True, "rescued": False, "idle": True}


def sender():
    while True:
        go.acquire()
        if state["stop"]:
            return
        pick = rand(10)
        if pick >= 6:
            time.sleep_us(rand(20000))
        elif pick >= 3:
            time.sleep_us(rand(2000))
        state["sent"] = time.ticks_us()
        if state["signal"]:
            pthread_kill(MAIN, SIGINT)
        else:
            woke.release()
            continue
        t = time.ticks_ms()
        while not state["done"] and time.ticks_diff(time.ticks_ms(), t) < 1500:
            time.sleep_ms(1)
        if not state["done"]:
            state["rescued"] = True
            state["rescue"]()
        state["idle"] = True


_thread.start_new_thread(sender, ())

# The slack: how late the main thread wakes when the sender lets it.
state["signal"] = False
slack = 0
for _ in range(40):
    go.release()
    woke.acquire()
    slack = max(slack, time.ticks_diff(time.ticks_us(), state["sent"]))
state["signal"] = True
print("slack", slack)


def pair():
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)
    a = socket.socket()
    a.connect(lsn.getsockname())
    b, _ = lsn.accept()
    return lsn, a, b


lsn, a, b = pair()
bound = 100000 + slack
for i in range(n):
    if kind == "connect":
        c = socket.socket()
        call, victim = (lambda: c.connect(("127.0.0.1", port))), c
    elif kind == "accept":
        call, victim = lsn.accept, lsn
    elif kind == "recv":
        call, victim = (lambda: a.recv(100)), a
    elif kind == "read":
        call, victim = (lambda: a.read(100)), a
    elif kind == "readline":
        call, victim = a.readline, a
    elif kind == "write":
        call, victim = (lambda: a.write(big)), a
    else:
        call, victim = (lambda: a.sendall(big)), a
    victim.settimeout(5 if i % 2 else None)
    state["done"], state["rescued"], state["idle"] = False, False, False
    state["rescue"] = victim.close
    outcome = None
    try:
        try:
            go.release()
            call()
            outcome = "returned"
        except OSError as e:
            outcome = "error %s" % e
        time.sleep_ms(2)  # a late KeyboardInterrupt comes here
    except KeyboardInterrupt:
        late = time.ticks_diff(time.ticks_us(), state["sent"])
        if outcome is None and late <= bound:
            outcome = "ok"
        else:
            outcome = "%s, KeyboardInterrupt %d us after the signal" % (
                outcome, late)
    state["done"] = True
    while not state["idle"]:  # the sender is back waiting for go
        time.sleep_ms(1)
    if state["rescued"]:
        outcome += " (missed: ended by the watchdog)"
    if outcome != "ok":
        print("bad", i, outcome)
        if state["rescued"]:
            lsn, a, b = pair()
    if kind == "connect":
        c.close()
state["stop"] = True
go.release()
print("done", n)
