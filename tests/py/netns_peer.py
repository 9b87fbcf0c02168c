"""netns_peer.py: the far end of the network-fault tests, run by
netns_util.Peer inside the peer's namespace with CPython's own socket (a
known-good peer, as conftest's cpeer_pair). Not a test file.

    netns_peer.py ADDR PORT MODE [ARGS...]

It listens on ADDR:PORT, prints "ready", serves one connection, prints one
JSON line with what it saw, and exits. It never outlives LIFETIME seconds
(SIGALRM's default action ends it), and the test kills it in any case.

Modes:
  echo                       sends back everything until EOF
  source NBYTES              sends NBYTES of a counting pattern, then closes
  sink SLOW_S CHUNK DELAY_S  reads CHUNK bytes every DELAY_S for SLOW_S
                             seconds, then at full speed until EOF; reports
                             the count and SHA-256 of all it read
  trickle CHUNK DELAY_S      a relay: what the client sends goes at once to
                             an echo server of this process, and the echo
                             comes back in CHUNK-byte pieces DELAY_S apart
"""
import hashlib
import json
import signal
import socket
import sys
import threading
import time

LIFETIME = 90


def pattern(nbytes, offset=0):
    """Bytes offset..offset+nbytes of an endless 0..250 counting pattern
    (251 is prime: no power-of-two block repeats it)."""
    start = offset % 251
    block = bytes(range(251)) * ((nbytes + start) // 251 + 1)
    return block[start:start + nbytes]


def report(**fields):
    print(json.dumps(fields), flush=True)


def echo(conn):
    total = 0
    while True:
        data = conn.recv(1 << 16)
        if not data:
            break
        conn.sendall(data)
        total += len(data)
    conn.shutdown(socket.SHUT_WR)
    report(bytes=total)


def source(conn, nbytes):
    sent = 0
    try:
        while sent < nbytes:
            sent += conn.send(pattern(min(1 << 16, nbytes - sent), sent))
        conn.shutdown(socket.SHUT_WR)
        report(bytes=sent)
    except OSError as e:
        report(bytes=sent, error=e.errno)


def sink(conn, slow_s, chunk, delay_s):
    digest, total = hashlib.sha256(), 0
    slow_until = time.monotonic() + slow_s
    try:
        while True:
            slow = time.monotonic() < slow_until
            data = conn.recv(chunk if slow else 1 << 16)
            if not data:
                break
            digest.update(data)
            total += len(data)
            if slow:
                time.sleep(delay_s)
        report(bytes=total, sha256=digest.hexdigest())
    except OSError as e:
        report(bytes=total, sha256=digest.hexdigest(), error=e.errno)


def trickle(conn, chunk, delay_s):
    upstream_lsn = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=lambda: echo_quietly(upstream_lsn.accept()[0]), daemon=True).start()
    upstream = socket.create_connection(upstream_lsn.getsockname(), timeout=10)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def forward():  # client -> upstream, at full speed
        while True:
            data = conn.recv(1 << 16)
            if not data:
                upstream.shutdown(socket.SHUT_WR)
                return
            upstream.sendall(data)

    threading.Thread(target=forward, daemon=True).start()
    total = 0
    while True:  # upstream -> client, a trickle
        data = upstream.recv(chunk)
        if not data:
            break
        conn.sendall(data)
        total += len(data)
        time.sleep(delay_s)
    conn.shutdown(socket.SHUT_WR)
    report(bytes=total)


def echo_quietly(conn):
    while True:
        data = conn.recv(1 << 16)
        if not data:
            conn.shutdown(socket.SHUT_WR)
            return
        conn.sendall(data)


def main(addr, port, mode, *args):
    signal.alarm(LIFETIME)
    lsn = socket.create_server((addr, int(port)))
    print("ready", flush=True)
    conn, _ = lsn.accept()
    lsn.close()
    if mode == "echo":
        echo(conn)
    elif mode == "source":
        source(conn, int(args[0]))
    elif mode == "sink":
        sink(conn, float(args[0]), int(args[1]), float(args[2]))
    elif mode == "trickle":
        trickle(conn, int(args[0]), float(args[1]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    conn.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
