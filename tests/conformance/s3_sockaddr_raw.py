# The unix port's extras: sockaddr(raw) decodes struct sockaddr bytes, and
# raw bytes are accepted as addresses; MSG_DONTROUTE exists.
import struct
import sys

from _common import socket, trap, listener, close_all

LE = sys.byteorder == "little"  # sa_family is in host order


def raw4(a, b, c, d, port):
    fam = struct.pack("<H" if LE else ">H", socket.AF_INET)
    return fam + struct.pack(">H", port) + bytes([a, b, c, d]) + bytes(8)


def raw6(port, last, flowinfo, scope):
    fam = struct.pack("<H" if LE else ">H", socket.AF_INET6)
    return (fam + struct.pack(">HI", port, flowinfo) + bytes(15) +
            bytes([last]) + struct.pack("<I" if LE else ">I", scope))


print("ipv4:", socket.sockaddr(raw4(1, 2, 3, 4, 80)))
print("ipv4 bytearray:", socket.sockaddr(bytearray(raw4(127, 0, 0, 1, 65535))))
print("ipv6:", socket.sockaddr(raw6(443, 1, 5, 7)))
unix = struct.pack("<H" if LE else ">H", 1) + b"/tmp/sock\x00"
print("other family:", socket.sockaddr(unix))
ai = socket.getaddrinfo("127.0.0.1", 8080)[0][-1]
print("getaddrinfo's address:", socket.sockaddr(ai))
print("too short:", trap(socket.sockaddr, b"\x02"))
print("ipv4 too short:", trap(socket.sockaddr, raw4(1, 2, 3, 4, 80)[:15]))
print("int:", trap(socket.sockaddr, 5))

lst = listener()
port = lst.getsockname()[1]
c = socket.socket()
c.connect(raw4(127, 0, 0, 1, port))
srv, _ = lst.accept()
print("connect raw:", c.getpeername()[1] == port)
close_all(c, srv, lst)

u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u1.bind(raw4(127, 0, 0, 1, 0))
u2.bind(raw4(127, 0, 0, 1, 0))
print("bind raw:", u1.getsockname()[0])
print("sendto raw:", u1.sendto(b"raw", raw4(127, 0, 0, 1, u2.getsockname()[1])))
print("got:", u2.recvfrom(10)[0])
close_all(u1, u2)
print("MSG_DONTROUTE:", socket.MSG_DONTROUTE)
