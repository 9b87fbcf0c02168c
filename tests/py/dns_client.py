"""dns_client.py: what the lookup tests do inside a DnsNamespace (run by
dns_netns.DnsNamespace.client, with the module under test on its path).
Prints one JSON line: what a user of usocket would see.

    dns_client.py lookup NAME TIMEOUT|none [FAMILY]
    dns_client.py sigint NAME DELAY
    dns_client.py abandon NAME COUNT TIMEOUT SETTLE_S
    dns_client.py connect NAME PORT TIMEOUT|none
    dns_client.py reverse IP TIMEOUT|none FLAGS
    dns_client.py rsigint IP DELAY
"""
import json
import os
import signal
import sys
import threading
import time

import usocket


def number(text):
    return None if text == "none" else float(text)


def error_of(e):
    return {"error": type(e).__name__, "errno": e.args[0] if e.args else None}


def lookup(name, timeout, family="0"):
    t0 = time.monotonic()
    out = {}
    try:
        # Without a time limit, no keyword: the call as MicroPython has it.
        kw = {} if timeout == "none" else {"timeout": float(timeout)}
        res = usocket.getaddrinfo(name, 80, int(family), usocket.SOCK_STREAM, **kw)
        out["addrs"] = [[r[0], r[4][0]] for r in res]
    except OSError as e:
        out.update(error_of(e))
    out["elapsed"] = time.monotonic() - t0
    return out


def sigint(name, delay):
    """A lookup without a time limit, and a SIGINT after delay seconds:
    how long after the signal the KeyboardInterrupt came."""
    sent = []

    def kill():
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(float(delay), kill)
    timer.start()
    out = {}
    try:
        usocket.getaddrinfo(name, 80)
        out["interrupted"] = False
    except KeyboardInterrupt:
        out["interrupted"] = True
    except OSError as e:
        out.update(error_of(e))
    got = time.monotonic()
    timer.join()
    out["late"] = got - sent[0] if sent else None
    return out


def threads():
    return len(os.listdir("/proc/self/task"))


def fds():
    return len(os.listdir("/proc/self/fd"))


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def settle(base, limit):
    """Waits (at most limit seconds) for the thread count to fall back to
    base; the time it took."""
    t0 = time.monotonic()
    while threads() > base and time.monotonic() - t0 < limit:
        time.sleep(0.05)
    return time.monotonic() - t0


def abandon(name, count, timeout, limit):
    count, timeout, limit = int(count), float(timeout), float(limit)
    base_threads, base_fds = threads(), fds()

    def run(n):
        peak, timeouts = 0, 0
        for i in range(n):
            try:
                usocket.getaddrinfo(name, 80, timeout=timeout)
            except TimeoutError:
                timeouts += 1
            if i % 50 == 0:
                peak = max(peak, threads())
        return peak, timeouts

    # A first round: the allocator's arenas and the pool's threads come
    # and go once, so that the measured round starts from a steady state.
    run(min(count, 500))
    warm_settle = settle(base_threads, limit)
    rss0 = rss_kib()
    t0 = time.monotonic()
    peak, timeouts = run(count)
    spent = time.monotonic() - t0
    after = settle(base_threads, limit)
    return {"base_threads": base_threads, "base_fds": base_fds,
            "peak_threads": peak, "timeouts": timeouts, "spent": spent,
            "warm_settle": warm_settle, "settle": after,
            "threads": threads(), "fds": fds(), "rss_growth_kib": rss_kib() - rss0}


def connect(name, port, timeout):
    """create_connection to name:port, with CPython listeners on both
    127.0.0.1 and ::1 at that port (whichever the SYNs reach accepts)."""
    import socket

    listeners = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        ls = socket.socket(family)
        ls.bind((host, int(port)))
        ls.listen()
        listeners.append(ls)
    base_fds = fds()
    t0 = time.monotonic()
    out = {}
    try:
        s = usocket.create_connection((name, int(port)), number(timeout))
        out["peer"] = s.getpeername()[0]
        out["family"] = "v6" if ":" in out["peer"] else "v4"
        out["timeout"] = s.gettimeout()
        s.close()
    except OSError as e:
        out.update(error_of(e))
    out["elapsed"] = time.monotonic() - t0
    out["fds_left"] = fds() - base_fds  # the attempts that lost are closed
    for ls in listeners:
        ls.close()
    return out


def reverse(ip, timeout, flags):
    """getnameinfo((ip, 80), flags): the names, or the error."""
    t0 = time.monotonic()
    out = {}
    try:
        kw = {} if timeout == "none" else {"timeout": float(timeout)}
        out["names"] = list(usocket.getnameinfo((ip, 80), int(flags), **kw))
    except OSError as e:
        out.update(error_of(e))
    out["elapsed"] = time.monotonic() - t0
    return out


def rsigint(ip, delay):
    """sigint's check for a reverse lookup without a time limit."""
    sent = []

    def kill():
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(float(delay), kill)
    timer.start()
    out = {}
    try:
        usocket.getnameinfo((ip, 80), usocket.NI_NAMEREQD)
        out["interrupted"] = False
    except KeyboardInterrupt:
        out["interrupted"] = True
    except OSError as e:
        out.update(error_of(e))
    got = time.monotonic()
    timer.join()
    out["late"] = got - sent[0] if sent else None
    return out


if __name__ == "__main__":
    fn = {"lookup": lookup, "sigint": sigint, "abandon": abandon,
          "connect": connect, "reverse": reverse, "rsigint": rsigint}[sys.argv[1]]
    print(json.dumps(fn(*sys.argv[2:])), flush=True)
