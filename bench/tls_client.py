# tls_client.py: the Python clients of the TLS workloads, one run per
# process, against bench_tls_peer.
#
#   tls_client.py MODULE CA WORKLOAD ARGS...
#
# MODULE "ssl": CPython's socket and ssl modules the idiomatic CPython way
# (create_default_context, sendall, recv_into, makefile('rb').readline).
# MODULE "ussl": usocket and ussl the MicroPython way (SSLContext,
# wrap_socket, write, readinto, readline). Every session verifies the
# peer's certificate against CA and its name, "localhost". MODULE "floor"
# (readline only) is a bound on every CPython client: the CPU time this
# process spends taking the lines' bytes in 16 KiB pieces (ussl readinto:
# the kernel's copy and OpenSSL's decryption, which any client pays) plus
# the time of the readline loop over a C call that only makes each line as
# a new 40-byte bytes object (a memoryview's tobytes: no I/O, no search).
# A real readline does all of that and more in one thread, so none can
# beat this count of lines per second. Workloads and
# arguments mirror bench_tls_plain.c; the timed side prints "result
# SECONDS COUNT".
import sys
from time import perf_counter as clock

MODULE = sys.argv[1]
CA = sys.argv[2]
HOST = "localhost"
LINE_LEN = 40

if MODULE == "ssl":
    import socket
    import ssl

    _ctx = ssl.create_default_context(cafile=CA)

    def session(port):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _ctx.wrap_socket(s, server_hostname=HOST)
else:
    import usocket as socket
    import ussl as ssl

    _ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _ctx.load_verify_locations(cafile=CA)

    def session(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _ctx.wrap_socket(s, server_hostname=HOST)

CPYTHON_WAY = MODULE == "ssl"


def result(seconds, count):
    print("result %.9f %d" % (seconds, count))
    sys.stdout.flush()


def pingpong(port, n, size):
    s = session(port)
    msg = b"p" * size
    buf = bytearray(size)
    if CPYTHON_WAY:
        send, recv_into = s.sendall, s.recv_into
        view = memoryview(buf)
        t0 = clock()
        for _ in range(n):
            send(msg)
            got = recv_into(buf)
            while got < size:  # a record may come in pieces
                got += recv_into(view[got:])
        t = clock() - t0
    else:
        write, readinto = s.write, s.readinto
        t0 = clock()
        for _ in range(n):
            write(msg)
            if readinto(buf) != size:
                raise OSError("short echo")
        t = clock() - t0
    result(t, n)
    s.close()


def readline(port, n):
    s = session(port)
    if MODULE == "floor":
        from time import process_time

        buf = bytearray(16384)
        left = n * LINE_LEN
        cpu0 = process_time()
        while left > 0:
            got = s.readinto(buf, min(left, len(buf)))
            if not got:
                raise OSError("the peer sent fewer lines")
            left -= got
        cpu = process_time() - cpu0
        read = memoryview(buf[:LINE_LEN]).tobytes
        t0 = clock()
        for _ in range(n):
            line = read()
        result(cpu + clock() - t0, n)
        s.close()
        return
    f = s.makefile("rb") if CPYTHON_WAY else s
    read = f.readline
    t0 = clock()
    for _ in range(n):
        line = read()
    t = clock() - t0
    if n and len(line) != LINE_LEN:
        raise OSError("lines were not read one by one")
    result(t, n)
    if f is not s:
        f.close()
    s.close()


def bulk_read(port, total, chunk):
    s = session(port)
    buf = bytearray(chunk)
    read = s.recv_into if CPYTHON_WAY else s.readinto
    got = 0
    t0 = clock()
    while got < total:
        n = read(buf)
        if not n:
            break
        got += n
    result(clock() - t0, got)
    s.close()


def handshakes(port, n):
    t0 = clock()
    for _ in range(n):
        session(port).close()
    result(clock() - t0, n)


def rss():
    import os

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def heap():
    # Bytes in use in malloc's heap: OpenSSL's and (run with
    # PYTHONMALLOC=malloc) Python's, which tracemalloc alone would miss.
    import ctypes

    class Info(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
            "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = Info
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd


def memory(port, n, measure):
    import gc

    session(port).close()  # the first session's one-time set-up
    gc.collect()
    before = measure()
    held = [session(port) for _ in range(n)]
    gc.collect()
    after = measure()
    print("metric bytes %.1f" % ((after - before) / n))
    result(0.0, n)
    for s in held:
        s.close()


def memory_rss(port, n):
    memory(port, n, rss)


def memory_heap(port, n):
    memory(port, n, heap)


WORKLOADS = {
    "pingpong": (pingpong, 3),
    "readline": (readline, 2),
    "bulk-read": (bulk_read, 3),
    "handshakes": (handshakes, 2),
    "memory-rss": (memory_rss, 2),
    "memory-heap": (memory_heap, 2),
}


def main():
    fn, nargs = WORKLOADS[sys.argv[3]]
    args = [int(a) for a in sys.argv[4:]]
    if len(args) != nargs:
        raise SystemExit("usage: tls_client.py MODULE CA WORKLOAD ARGS...")
    fn(*args)


main()
