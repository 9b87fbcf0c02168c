# SPEC 5: close() (idempotent, EBADF afterwards, the peer sees EOF),
# collection closes, fileno(), context manager, repr, getsockname,
# getpeername, shutdown.
import gc
from _common import socket, trap, tcp_pair, close_all

lst, cli, srv = tcp_pair()
print("fileno:", cli.fileno() >= 0)
print("peer names agree:", cli.getpeername() == srv.getsockname(), cli.getsockname() == srv.getpeername())
print("repr:", repr(cli).startswith("<"))
cli.close()
print("peer sees EOF:", srv.recv(10))
print("close again:", trap(cli.close))
print("fileno after close:", cli.fileno())
for name, args in (("recv", (1,)), ("send", (b"x",)), ("connect", (("127.0.0.1", 9),)),
                   ("bind", (("127.0.0.1", 0),)), ("listen", ()), ("accept", ()),
                   ("getsockname", ()), ("getpeername", ()), ("settimeout", (1,)),
                   ("setsockopt", (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)),
                   ("read", (1,)), ("readline", ()), ("write", (b"x",)),
                   ("sendall", (b"x",)), ("shutdown", (2,))):
    print("after close", name + ":", trap(getattr(cli, name), *args))

# shutdown(SHUT_WR): the peer sees EOF while the socket stays open.
lst2, a, b = tcp_pair()
a.shutdown(1)
print("after shutdown peer sees:", b.recv(10))
b.send(b"still open")
print("other way works:", a.recv(20))
close_all(a, b, lst2)

with socket.socket() as w:
    print("with: open inside", w.fileno() >= 0)
print("with: closed after", w.fileno())

# A socket that is collected unclosed is closed.
def count_open(socks):
    return sum(1 for s in socks if s.fileno() >= 0)

def make_garbage(n):
    for _ in range(n):
        socket.socket()

import os
def fd_open(fd):
    try:
        os.stat("/proc/self/fd/%d" % fd)
        return True
    except OSError:
        return False

probe = socket.socket()
first = probe.fileno()
probe.close()
try:
    import warnings
    warnings.simplefilter("ignore")
except ImportError:
    pass
make_garbage(20)
for _ in range(3):
    gc.collect()
left = sum(1 for fd in range(first, first + 20) if fd_open(fd))
print("collected sockets closed:", left <= 2)
close_all(srv, lst)
