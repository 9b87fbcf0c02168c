# SPEC 3: the opaque address form (unpacks, indexes, compares and hashes
# like its tuple, prints like it) and the tuple forms, which MicroPython's
# unix module does not accept, for IPv4 and IPv6, with clear errors.
from _common import socket, trap, tcp_pair, close_all, loopback

a = socket.getaddrinfo("127.0.0.1", 8080)[0][-1]
host, port = a
print("unpacks:", host, port, "len", len(a), "index", a[0], a[1], a[-1])
print("prints:", a, repr(a) == repr(("127.0.0.1", 8080)))
print("equals tuple:", a == ("127.0.0.1", 8080), ("127.0.0.1", 8080) == a, a != ("127.0.0.1", 8081))
print("equals itself:", a == socket.getaddrinfo("127.0.0.1", 8080)[0][-1])
print("hash as tuple:", hash(a) == hash(("127.0.0.1", 8080)), {a: 1}.get(("127.0.0.1", 8080)))
print("as tuple:", tuple(a), list(a))
b = socket.getaddrinfo("::1", 80, socket.AF_INET6)[0][-1]
print("v6:", b, len(b), tuple(b) == ("::1", 80, 0, 0))

# The same form comes back from accept, recvfrom, getsockname, getpeername.
lst, cli, srv = tcp_pair()
peer = srv.getpeername()
print("accept form:", type(lst.getsockname()) is type(a), type(peer) is type(a))
cli2 = socket.socket()
cli2.connect(lst.getsockname())
conn, addr = lst.accept()
print("accept addr:", type(addr) is type(a), addr == cli2.getsockname(), addr[0])
close_all(conn, cli2, cli, srv)

# Tuple form, IPv4: connect and bind take it; '' is any for bind.
s = socket.socket()
s.bind(("", 0))
print("bind '' is any:", s.getsockname()[0], s.getsockname()[1] > 0)
s.listen(1)
c = socket.socket()
c.connect(("127.0.0.1", s.getsockname()[1]))
conn, _ = s.accept()
print("connect tuple:", c.getpeername()[1] == s.getsockname()[1])
close_all(conn, c, s)

# Tuple form, IPv6: 4-tuple and 2-tuple.
s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s6.bind(("::1", 0, 0, 0))
s6.listen(1)
p6 = s6.getsockname()[1]
c6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
c6.connect(("::1", p6))
conn6, addr6 = s6.accept()
print("v6 2-tuple connect:", addr6[0], len(addr6))
close_all(conn6, c6)
c6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
c6.connect(("::1", p6, 0, 0))
conn6, _ = s6.accept()
print("v6 4-tuple connect:", c6.getpeername()[0])
close_all(conn6, c6, s6)

# Domain names in tuples are resolved, as CPython does.
s = socket.socket()
s.bind(("localhost", 0))
print("name resolved:", s.getsockname()[0])
s.close()

# Errors: clear exceptions, never a crash or a silent truncation.
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
v6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
print("v6 tuple on v4:", trap(u.sendto, b"x", ("::1", 9)))
print("v6 sockaddr on v4:", trap(u.sendto, b"x", b))
print("v4 sockaddr on v6:", trap(v6.sendto, b"x", a))
print("port 70000:", trap(u.sendto, b"x", ("127.0.0.1", 70000)))
print("port -1:", trap(u.bind, ("127.0.0.1", -1)))
print("connect port 0:", trap(u.connect, ("127.0.0.1", 0)))
print("sendto port 0:", trap(u.sendto, b"x", ("127.0.0.1", 0)))
print("port str:", trap(u.sendto, b"x", ("127.0.0.1", "80")))
print("host int:", trap(u.sendto, b"x", (127, 80)))
print("3-tuple on v4:", trap(u.sendto, b"x", ("127.0.0.1", 80, 0)))
print("1-tuple:", trap(u.sendto, b"x", ("127.0.0.1",)))
print("list:", trap(u.sendto, b"x", ["127.0.0.1", 80]))
print("str:", trap(u.sendto, b"x", "127.0.0.1:80"))
print("flowinfo not 0:", trap(v6.sendto, b"x", ("::1", 9, 1, 0)))
print("flowinfo too big:", trap(v6.sendto, b"x", ("::1", 9, 2**32, 0)))
print("flowinfo negative:", trap(v6.sendto, b"x", ("::1", 9, -1, 0)))
print("bad numeric:", trap(u.sendto, b"x", ("1.2.3.456.7", 9)).startswith("OSError"))
close_all(u, v6)
