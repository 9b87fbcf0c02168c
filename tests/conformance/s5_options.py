# SPEC 5: setsockopt with an int or a bytes-like value; getsockopt.
import struct
from _common import socket, trap, close_all

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
print("int:", s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
print("int 0:", s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, True)
print("bool:", s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 5))
print("bytes:", struct.unpack("ii", s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)))
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, bytearray(struct.pack("ii", 0, 0)))
print("bytearray:", struct.unpack("ii", s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
print("SO_RCVBUF:", s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 65536)
print("SO_ERROR:", s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
print("bad option:", trap(s.setsockopt, socket.SOL_SOCKET, 99999, 1))
print("short value:", trap(s.setsockopt, socket.SOL_SOCKET, socket.SO_REUSEADDR, b"\x01"))
close_all(s)
