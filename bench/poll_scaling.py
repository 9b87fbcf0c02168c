"""poll_scaling.py: what one uselect poll(0) costs with 10 registered
sockets and with 10,000, one of them ready each time; prints both costs
and their ratio (epoll keeps it near 1; poll(2) would make it ~1000).

Run: PYTHONPATH=build/python /usr/bin/python3 bench/poll_scaling.py
Options: --big N (10000), --small N (10), --calls N (20000), --rounds N (5),
--json (one JSON line instead of text). Not part of make test.
"""
import argparse
import json
import resource
import socket
import sys
import time

import uselect

try:
    import usocket
except ImportError:  # CPython's own sockets work just as well here
    usocket = None


def udp_socket():
    # UDP: an idle one is neither readable nor hung up (an unconnected TCP
    # socket reports POLLHUP), and it costs one descriptor.
    if usocket:
        return usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM)
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def make_ready():
    """A UDP socket with a datagram waiting: readable on every poll."""
    s = udp_socket()
    s.bind(("127.0.0.1", 0))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host, port = s.getsockname()  # a usocket sockaddr unpacks like a tuple
    tx.sendto(b"x", (host, port))
    tx.close()
    return s


def cost_ns(registered, calls, rounds):
    """The best, over rounds, of the mean ns of one poll(0) call."""
    ready = make_ready()
    idle = [udp_socket() for _ in range(registered - 1)]
    p = uselect.poll()
    for s in idle:
        p.register(s, uselect.POLLIN)
    p.register(ready, uselect.POLLIN)
    res = p.poll(0)
    assert len(res) == 1 and res[0][0] is ready, res
    poll = p.poll
    best = None
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            poll(0)
        per = (time.perf_counter_ns() - t0) / calls
        best = per if best is None else min(best, per)
    for s in idle:
        s.close()
    ready.close()
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--big", type=int, default=10000)
    ap.add_argument("--small", type=int, default=10)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = a.big + 64
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            sys.exit(f"poll_scaling: needs {need} descriptors, limit {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    backend = repr(uselect.poll()).split()[1].rstrip(",")
    small = cost_ns(a.small, a.calls, a.rounds)
    big = cost_ns(a.big, a.calls, a.rounds)
    out = {
        "backend": backend,
        "sockets": "usocket" if usocket else "socket",
        "small_registered": a.small,
        "big_registered": a.big,
        "small_ns_per_poll": round(small, 1),
        "big_ns_per_poll": round(big, 1),
        "ratio": round(big / small, 3),
    }
    if a.json:
        print(json.dumps(out))
        return
    print(f"uselect.poll ({backend}, {out['sockets']} sockets), poll(0) "
          f"with one ready:")
    print(f"  {a.small:>6} registered: {small:9.1f} ns per call")
    print(f"  {a.big:>6} registered: {big:9.1f} ns per call")
    print(f"  ratio: {big / small:.2f} (the goal: at most 2)")


if __name__ == "__main__":
    main()
