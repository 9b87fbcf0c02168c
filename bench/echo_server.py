# echo_server.py: the servers of the echo-server workload, each written
# the way its library is meant to be used; bench_load (C) is the client.
#
#   echo_server.py KIND CONNS SIZE
#
# KIND: usocket (uselect.poll, MicroPython style: ipoll, readinto into one
# preallocated bytearray, write(buf, 0, n)), selectors (CPython's, the
# recv + send of its documentation), asyncio (streams), uvloop (the same
# streams on uvloop's loop). Each prints "port N", accepts CONNS
# connections, echoes what arrives (at most SIZE bytes at a time) and ends
# when all CONNS have closed. The usocket server keeps to what MicroPython
# understands, so that the same code runs there.
import sys

BACKLOG = 1024  # bench_load connects all CONNS at once


def say(text):
    print(text)
    if hasattr(sys.stdout, "flush"):
        sys.stdout.flush()


def enough_descriptors(n):
    try:
        import resource
    except ImportError:  # MicroPython: the shell's limit it is
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft != resource.RLIM_INFINITY and soft < want:
        if hard != resource.RLIM_INFINITY:
            want = min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def serve_usocket(conns, size):
    import usocket as socket
    import uselect as select

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(socket.getaddrinfo("127.0.0.1", 0)[0][-1])
    ls.listen(BACKLOG)
    ls.setblocking(False)
    say("port %d" % ls.getsockname()[1])
    poller = select.poll()
    poller.register(ls, select.POLLIN)
    buf = bytearray(size)
    accepted = closed = 0
    while closed < conns:
        for s, ev in poller.ipoll():
            if s is ls:
                c = ls.accept()[0]
                c.setblocking(False)
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                poller.register(c, select.POLLIN)
                accepted += 1
                if accepted == conns:
                    poller.unregister(ls)
                continue
            n = s.readinto(buf)
            if n:
                s.write(buf, 0, n)
            elif n is not None:  # EOF; None: nothing there after all
                poller.unregister(s)
                s.close()
                closed += 1
    ls.close()


def serve_selectors(conns, size):
    import selectors
    import socket

    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(BACKLOG)
    ls.setblocking(False)
    say("port %d" % ls.getsockname()[1])
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    accepted = closed = 0
    while closed < conns:
        for key, mask in sel.select():
            s = key.fileobj
            if s is ls:
                c = ls.accept()[0]
                c.setblocking(False)
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sel.register(c, selectors.EVENT_READ)
                accepted += 1
                if accepted == conns:
                    sel.unregister(ls)
                continue
            try:
                data = s.recv(size)
            except BlockingIOError:
                continue
            if data:
                s.send(data)
            else:
                sel.unregister(s)
                s.close()
                closed += 1
    ls.close()


def serve_asyncio(conns, size, loop_factory=None):
    import asyncio

    async def main():
        done = asyncio.Event()
        closed = 0

        async def handle(reader, writer):
            nonlocal closed
            while True:
                data = await reader.read(size)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            writer.close()
            closed += 1
            if closed == conns:
                done.set()

        # asyncio sets TCP_NODELAY on every stream it opens.
        server = await asyncio.start_server(handle, "127.0.0.1", 0,
                                            backlog=BACKLOG)
        say("port %d" % server.sockets[0].getsockname()[1])
        await done.wait()
        server.close()
        await server.wait_closed()

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(main())


def serve_uvloop(conns, size):
    import uvloop

    serve_asyncio(conns, size, uvloop.new_event_loop)


KINDS = {"usocket": serve_usocket, "selectors": serve_selectors,
         "asyncio": serve_asyncio, "uvloop": serve_uvloop}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in KINDS:
        raise SystemExit("usage: echo_server.py %s CONNS SIZE" %
                         "|".join(KINDS))
    conns, size = int(sys.argv[2]), int(sys.argv[3])
    enough_descriptors(conns)
    KINDS[sys.argv[1]](conns, size)


main()
