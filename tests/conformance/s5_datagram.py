# SPEC 5: sendto/recvfrom with both address forms; recvfrom gives the
# opaque form.
from _common import socket, trap, loopback, close_all

a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a.bind(loopback())
b.bind(("127.0.0.1", 0))
print("sendto sockaddr:", b.sendto(b"one", a.getsockname()))
data, addr = a.recvfrom(100)
print("recvfrom:", data, addr == b.getsockname(), type(addr) is type(loopback()))
print("sendto tuple:", b.sendto(b"two", ("127.0.0.1", a.getsockname()[1])))
print("recv:", a.recv(100))
print("reply to recvfrom addr:", a.sendto(b"back", addr), b.recvfrom(10)[0])
b.sendto(b"truncated datagram", a.getsockname())
print("short buffer:", a.recvfrom(4)[0])
b.sendto(b"", a.getsockname())
print("empty datagram:", a.recvfrom(10)[0])
a.settimeout(0)
print("nothing waiting:", trap(a.recvfrom, 10))
print("recvfrom negative:", trap(a.recvfrom, -1))
b.sendto(b"dontwait", a.getsockname())
a.settimeout(None)
print("MSG_DONTWAIT:", a.recv(100, socket.MSG_DONTWAIT), trap(a.recv, 100, socket.MSG_DONTWAIT))
# MSG_TRUNC (Linux's 0x20): only the bytes copied, never the datagram's
# whole length (a 60000-byte one once crashed the module).
b.sendto(b"A" * 60000, a.getsockname())
b.sendto(b"B" * 2000, a.getsockname())
print("MSG_TRUNC recv:", a.recv(10, 0x20))
print("MSG_TRUNC recvfrom:", a.recvfrom(10, 0x20)[0])
close_all(a, b)

a = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
a.bind(("::1", 0))
b = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
b.sendto(b"six", ("::1", a.getsockname()[1]))
data, addr = a.recvfrom(10)
print("v6:", data, addr[0], len(addr))
close_all(a, b)
