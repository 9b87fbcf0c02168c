# SPEC 5: send, sendall (a deadline for the whole call; non-blocking:
# EAGAIN), recv (at most bufsize, b'' at EOF, negative ValueError, a huge
# bufsize allocates nothing up front), MSG_PEEK, and no SIGPIPE.
from _common import socket, trap, now, tcp_pair, close_all

lst, a, b = tcp_pair()
print("send:", a.send(b"hello"))
print("recv at most:", b.recv(3), b.recv(100))
a.sendall(b"x" * 100000)
got = 0
for _ in range(1000):
    if got >= 100000:
        break
    got += len(b.recv(65536))
print("sendall everything:", got)
print("recv negative:", trap(b.recv, -1))
a.send(b"peek")
print("MSG_PEEK:", b.recv(10, socket.MSG_PEEK), b.recv(10))
# MSG_TRUNC on a stream would drop bytes without copying them: refused,
# and the bytes stay queued.
a.send(b"trunc")
print("MSG_TRUNC stream:", b.recv(1, socket.MSG_PEEK), trap(b.recv, 3, 0x20), b.recv(10))
a.send(b"small")
print("huge bufsize:", b.recv(1 << 30))
print("bytearray:", a.send(bytearray(b"ab")), b.recv(2))
print("memoryview:", a.send(memoryview(b"cdef")[1:]), b.recv(3))

# sendall with a timeout: one deadline for the whole call.
a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
a.settimeout(0.3)
big = bytes(512 << 10)
t = now()
r = trap(a.sendall, big)
print("sendall deadline:", r, 0.2 < now() - t < 3)
close_all(a, b)

# sendall on a non-blocking socket: sends what fits, then EAGAIN.
c = socket.socket()
c.connect(lst.getsockname())
d, _ = lst.accept()
c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
c.setblocking(False)
print("non-blocking sendall:", trap(c.sendall, big))
close_all(c, d)

# The peer has gone: EPIPE or a reset, never a dead process.
c = socket.socket()
c.connect(lst.getsockname())
d, _ = lst.accept()
d.close()
r = []
for _ in range(20):
    r.append(trap(c.send, b"data" * 1000))
    if r[-1] != "ok":
        break
print("peer gone:", r[-1] in ("OSError EPIPE", "OSError ECONNRESET"))
print("still alive")
close_all(c, lst)
