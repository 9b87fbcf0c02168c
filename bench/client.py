# client.py: the Python side of each workload, one run per process, under
# CPython or MicroPython, with the module named by the first argument.
#
#   client.py MODULE WORKLOAD ARGS...
#
# MODULE "socket" under CPython is CPython's own module used the idiomatic
# CPython way (sendall, recv_into, makefile('rb').readline); any other
# module, or any module under MicroPython, is used the MicroPython way
# (write, readinto, readline, makefile('rb', N)). Workloads and arguments
# mirror bench_plain.c; the timed side prints "result SECONDS COUNT" and a
# server prints "port N" before it accepts. Kept to what MicroPython's
# unix port understands: no f-strings, no keyword arguments to sockets.
import sys

try:
    from time import perf_counter as clock
except ImportError:  # MicroPython
    from time import time_ns

    def clock():
        return time_ns() / 1e9


MODULE = sys.argv[1]
mod = __import__(MODULE)
CPYTHON_WAY = sys.implementation.name == "cpython" and MODULE == "socket"
LINE_LEN = 40
IPPROTO_TCP = getattr(mod, "IPPROTO_TCP", 6)
TCP_NODELAY = getattr(mod, "TCP_NODELAY", 1)
SOL_SOCKET = getattr(mod, "SOL_SOCKET", 1)
SO_REUSEADDR = getattr(mod, "SO_REUSEADDR", 2)


def say(text):
    # run.py reads these lines through a pipe, as they come.
    print(text)
    if hasattr(sys.stdout, "flush"):
        sys.stdout.flush()


def result(seconds, count):
    say("result %.9f %d" % (seconds, count))


def address(port):
    # Each module's cheapest path: CPython takes tuples, MicroPython's
    # convention is getaddrinfo's opaque address.
    if CPYTHON_WAY:
        return ("127.0.0.1", port)
    return mod.getaddrinfo("127.0.0.1", port)[0][-1]


def connect(port):
    s = mod.socket(mod.AF_INET, mod.SOCK_STREAM)
    s.connect(address(port))
    s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
    return s


def listen(port):
    s = mod.socket(mod.AF_INET, mod.SOCK_STREAM)
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    s.bind(address(port))
    s.listen(128)
    return s


def pingpong(port, n, size):
    s = connect(port)
    msg = b"p" * size
    buf = bytearray(size)
    if CPYTHON_WAY:
        send, recv_into = s.sendall, s.recv_into
        view = memoryview(buf)
        t0 = clock()
        for _ in range(n):
            send(msg)
            got = recv_into(buf)
            while got < size:  # recv_into may return short
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


def bulk_read(port, total, chunk):
    ls = listen(port)
    say("port %d" % port)
    c = ls.accept()[0]
    buf = bytearray(chunk)
    got = 0
    read = c.recv_into if CPYTHON_WAY else c.readinto
    t0 = clock()
    while got < total:
        n = read(buf)
        if not n:
            break
        got += n
    result(clock() - t0, got)
    c.close()
    ls.close()


def bulk_write(port, total, chunk):
    s = connect(port)
    buf = b"b" * chunk
    write = s.sendall if CPYTHON_WAY else s.write
    while total >= chunk:
        write(buf)
        total -= chunk
    if total:
        write(buf[:total])
    s.close()


def lines(readline, n):
    # Lines are checked at the end: exactly n readline calls must reach
    # EOF, which only holds if every call returned one whole line.
    t0 = clock()
    for _ in range(n):
        line = readline()
    t = clock() - t0
    if n and (len(line) != LINE_LEN or readline() != b""):
        raise OSError("lines were not read one by one")
    result(t, n)


def readline(port, n):
    s = connect(port)
    lines(s.readline, n)
    s.close()


def makefile_readline(port, n, bufsize):
    s = connect(port)
    f = s.makefile("rb") if CPYTHON_WAY else s.makefile("rb", bufsize)
    lines(f.readline, n)
    f.close()
    s.close()


def getaddrinfo(n):
    ga = mod.getaddrinfo
    t0 = clock()
    for _ in range(n):
        ga("127.0.0.1", 80)
    result(clock() - t0, n)


def accept(n):
    ls = mod.socket(mod.AF_INET, mod.SOCK_STREAM)
    ls.bind(address(0))
    ls.listen(128)
    port = ls.getsockname()[1]
    addr = address(port)
    sock, AF_INET, SOCK_STREAM = mod.socket, mod.AF_INET, mod.SOCK_STREAM
    t0 = clock()
    for _ in range(n):
        c = sock(AF_INET, SOCK_STREAM)
        c.connect(addr)
        a = ls.accept()[0]
        a.close()  # accepted side first: see bench_plain.c
        c.close()
    result(clock() - t0, n)
    ls.close()


def enough_descriptors(n):
    # 10,000 sockets need more descriptors than many shells allow.
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < n + 64:
        want = n + 64 if hard == resource.RLIM_INFINITY else min(n + 64, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def poll(nidle, calls):
    # Idle: unbound UDP sockets, never readable and never hung up. Ready:
    # one that holds a datagram it sent itself. CPython's own module is
    # measured with select.poll, ours with uselect.poll.
    sel = __import__("select" if CPYTHON_WAY else "uselect")
    enough_descriptors(nidle)
    idle = [mod.socket(mod.AF_INET, mod.SOCK_DGRAM) for _ in range(nidle)]
    ready = mod.socket(mod.AF_INET, mod.SOCK_DGRAM)
    ready.bind(address(0))
    ready.sendto(b"x", ready.getsockname())
    p = sel.poll()
    for s in idle:
        p.register(s, sel.POLLIN)
    p.register(ready, sel.POLLIN)
    wait = p.poll
    while not wait(0):  # the datagram is queued at once on loopback
        pass
    # Batches until a quarter second has gone (or `calls`), so a cheap
    # poll and a dear one are both timed over a span the clock resolves.
    done, t0 = 0, clock()
    while True:
        for _ in range(100):
            events = wait(0)
        done += 100
        t = clock() - t0
        if t >= 0.25 or done >= calls:
            break
    if len(events) != 1:
        raise OSError("poll saw %d ready, not 1" % len(events))
    result(t, done)
    for s in idle:
        s.close()
    ready.close()


def memory(how, n):
    # One way per process: tracemalloc's own records would swell the RSS.
    import gc
    import os

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    make = mod.socket
    enough_descriptors(n)
    gc.collect()
    if how == "trace":
        import tracemalloc

        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    else:
        before = rss()
    socks = [make() for _ in range(n)]
    gc.collect()
    if how == "trace":
        after = tracemalloc.get_traced_memory()[0]
    else:
        after = rss()
    # The list holding them is not the sockets' cost.
    listed = sys.getsizeof(socks) if how == "trace" else 0
    say("metric bytes %.1f" % ((after - before - listed) / n))
    say("metric getsizeof %d" % sys.getsizeof(socks[0]))
    result(0.0, n)
    for s in socks:
        s.close()


def memory_trace(n):
    memory("trace", n)


def memory_rss(n):
    memory("rss", n)


WORKLOADS = {
    "pingpong": (pingpong, 3),
    "bulk-read": (bulk_read, 3),
    "bulk-write": (bulk_write, 3),
    "readline": (readline, 2),
    "makefile-readline": (makefile_readline, 3),
    "getaddrinfo": (getaddrinfo, 1),
    "accept": (accept, 1),
    "poll": (poll, 2),
    "memory-trace": (memory_trace, 1),
    "memory-rss": (memory_rss, 1),
}


def main():
    fn, nargs = WORKLOADS[sys.argv[2]]
    args = [int(a) for a in sys.argv[3:]]
    if len(args) != nargs:
        raise SystemExit("usage: client.py MODULE WORKLOAD ARGS...")
    fn(*args)


main()
