"""dns_server.py: a tiny DNS server for the lookup tests, run by
dns_netns.py inside a throw-away network namespace.

    dns_server.py ZONE_JSON LIFETIME_S

ZONE_JSON maps a lowercase name to how it is answered:
{"a": [...], "aaaa": [...], "delay": seconds, "silent": true}. A silent
name is never answered (a dead server, as far as that name goes); any name
not in the zone gets NXDOMAIN. It serves UDP on 127.0.0.1:53 and [::1]:53,
prints "ready" once it listens, and exits by itself after LIFETIME_S
seconds, or when its stdin closes (the test that started it is gone).
Plain CPython sockets: it must not depend on the module under test.
"""
import heapq
import ipaddress
import json
import os
import select
import socket
import struct
import sys
import time

TYPE_A, TYPE_AAAA, CLASS_IN = 1, 28, 1
RCODE_NXDOMAIN = 3


def parse_question(msg):
    """(id, flags, name, qtype, end of the question) of a query."""
    qid, flags, qdcount = struct.unpack_from("!HHH", msg)
    if qdcount != 1:
        raise ValueError("one question per query")
    pos, labels = 12, []
    while msg[pos]:
        n = msg[pos]
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii").lower())
        pos += 1 + n
    qtype, _qclass = struct.unpack_from("!HH", msg, pos + 1)
    return qid, flags, ".".join(labels), qtype, pos + 5


def answer(msg, zone):
    """The reply to msg (None: never reply) and how long to hold it."""
    qid, flags, name, qtype, qend = parse_question(msg)
    entry = zone.get(name)
    if entry is not None and entry.get("silent"):
        return None, 0
    rcode, records = 0, []
    if entry is None:
        rcode = RCODE_NXDOMAIN
    elif qtype == TYPE_A:
        records = [ipaddress.IPv4Address(a).packed for a in entry.get("a", [])]
    elif qtype == TYPE_AAAA:
        records = [ipaddress.IPv6Address(a).packed for a in entry.get("aaaa", [])]
    rd = flags & 0x0100
    head = struct.pack("!HHHHHH", qid, 0x8080 | rd | rcode, 1, len(records), 0, 0)
    body = b"".join(struct.pack("!HHHIH", 0xC00C, qtype, CLASS_IN, 60, len(r)) + r
                    for r in records)
    delay = entry.get("delay", 0) if entry else 0
    return head + msg[12:qend] + body, delay


def main():
    zone = {k.lower().rstrip("."): v for k, v in json.loads(sys.argv[1]).items()}
    end = time.monotonic() + float(sys.argv[2])
    socks = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind((host, 53))
        socks.append(s)
    print("ready", flush=True)
    held = []  # (when, seq, sock, reply, peer): replies that answer slowly
    seq = 0
    while True:
        now = time.monotonic()
        if now >= end:
            return
        wait = min([end - now] + [max(0.0, h[0] - now) for h in held[:1]])
        ready, _, _ = select.select(socks + [sys.stdin], [], [], wait)
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 4096):
            return
        for s in socks:
            if s in ready:
                msg, peer = s.recvfrom(4096)
                try:
                    reply, delay = answer(msg, zone)
                except (ValueError, IndexError, struct.error, UnicodeDecodeError):
                    continue
                if reply is not None:
                    seq += 1
                    heapq.heappush(held, (time.monotonic() + delay, seq, s, reply, peer))
        while held and held[0][0] <= time.monotonic():
            _, _, s, reply, peer = heapq.heappop(held)
            s.sendto(reply, peer)


if __name__ == "__main__":
    main()
