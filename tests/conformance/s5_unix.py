# SPEC 5 with AF_UNIX: file and abstract names, streams and datagrams, and
# bad addresses. Addresses go in as str paths on both hosts; they come back
# in each host's own form (CPython: str path, bytes abstract name, None
# for no sender; MicroPython's unix port: raw sockaddr bytes), printed
# here after name() makes them alike.
import os
import random
import sys

from _common import close_all, socket, trap

MP = sys.implementation.name == "micropython"
ERRNO = {2: "ENOENT", 36: "ENAMETOOLONG", 98: "EADDRINUSE", 111: "ECONNREFUSED"}


def name(addr):
    """CPython's form of an AF_UNIX address, on either host."""
    if not MP:
        return addr
    if len(addr) == 0:
        return None  # no sender
    family, path = socket.sockaddr(addr)
    if family != socket.AF_UNIX:
        return "family %d" % family
    if len(path) and path[0] == 0:
        return bytes(path)  # abstract
    end = path.find(b"\0")
    return str(path[: end if end >= 0 else len(path)], "utf-8")


def err(fn, *args):
    try:
        fn(*args)
        return "ok"
    except OSError as e:
        return "OSError " + ERRNO.get(e.args[0], str(e.args[0]))
    except Exception as e:
        return type(e).__name__


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


tag = "%08x" % random.getrandbits(30)
d = "/tmp/us_conf_unix_" + tag
os.mkdir(d)
print("AF_UNIX", socket.AF_UNIX)

# A stream over a file name: the listener's name, an unbound client's
# (empty), data both ways.
path = d + "/stream"
lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
lst.bind(path)
lst.listen(2)
print("socket file made:", exists(path))
print("listener's name is the path:", name(lst.getsockname()) == path)
cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
cli.settimeout(5)
cli.connect(path)
srv, peer = lst.accept()
print("accepted peer:", repr(name(peer)))
print("client's peer is the path:", name(cli.getpeername()) == path)
print("client's own name:", repr(name(cli.getsockname())))
cli.write(b"line one\nrest")
srv.settimeout(5)
print(srv.readline(), srv.recv(4))
srv.sendall(b"back")
print(cli.recv(10))
again = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
print("same path again:", err(again.bind, path))
close_all(cli, srv, lst, again)
print("file stays after close:", exists(path))
os.remove(path)

# Datagrams over file names: from a bound sender, and from an unbound one.
rx_path, tx_path = d + "/rx", d + "/tx"
rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
rx.bind(rx_path)
rx.settimeout(5)
tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
tx.bind(tx_path)
print("sent", tx.sendto(b"hello", rx_path))
data, sender = rx.recvfrom(64)
print(data, "from the sender's path:", name(sender) == tx_path)
anon = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
anon.sendto(b"anon", rx_path)
data, sender = rx.recvfrom(64)
print(data, "from", repr(name(sender)))
close_all(rx, tx, anon)
os.remove(rx_path)
os.remove(tx_path)

# Abstract names (Linux): no file, the name given back with its NUL.
abstract = "\0us_conf_" + tag
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
a.bind(abstract)
a.listen(1)
print("abstract name:", name(a.getsockname()) == abstract.encode())
b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
b.settimeout(5)
b.connect(abstract)
c, peer = a.accept()
print("peer", repr(name(peer)), "sees", name(b.getpeername()) == abstract.encode())
b.send(b"x")
c.settimeout(5)
print(c.recv(1))
close_all(a, b, c)
# An empty name: the kernel picks an abstract one.
e = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
e.bind("")
got = name(e.getsockname())
print("autobind:", type(got).__name__, got[:1], len(got))
e.close()

# Bad addresses.
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
print("file name too long:", err(s.bind, d + "/" + "x" * 120))
print("abstract too long:", err(s.bind, "\0" + "x" * 120))
print("NUL inside a file name:", err(s.bind, d + "/a\0b"))
print("tuple:", err(s.bind, ("127.0.0.1", 80)))
print("int:", err(s.connect, 7))
print("no such file:", err(s.connect, d + "/none"))
print("nobody listening:", err(s.connect, abstract))
s.close()
print("left in the directory:", os.listdir(d))
os.rmdir(d)
