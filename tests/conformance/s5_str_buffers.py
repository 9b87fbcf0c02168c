# A str is read as its UTF-8 bytes wherever a buffer is read, as in
# MicroPython: write, send, sendall, sendto, setsockopt. Counts are bytes.
from _common import socket, trap, tcp_pair, close_all, loopback

lst, a, b = tcp_pair()
TEXT = "h\u00e9llo \u20ac"  # 2- and 3-byte UTF-8
DATA = b"h\xc3\xa9llo \xe2\x82\xac"


def recv_n(n):
    got = b""
    while len(got) < n:
        got += b.recv(n - len(got))
    return got


print("write str:", a.write(TEXT), recv_n(len(DATA)) == DATA)
print("write str, off 1, 2:", a.write(TEXT, 1, 2), recv_n(2))
print("send str:", a.send("abc"), recv_n(3))
print("sendall str:", a.sendall(TEXT), recv_n(len(DATA)) == DATA)
print("write empty str:", a.write(""))
a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, "\x00" * 8)
print("setsockopt str:", a.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))
close_all(a, b, lst)

u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u1.bind(loopback())
u2.bind(loopback())
print("sendto str:", u1.sendto(TEXT, u2.getsockname()))
print("got:", u2.recvfrom(100)[0] == DATA)
close_all(u1, u2)
