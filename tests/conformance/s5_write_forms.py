# MicroPython's stream forms: write(buf), write(buf, max_len) and
# write(buf, off, max_len), offset and length clamped as py/stream.c
# clamps them (integers modulo the word size: -1 is "no limit"/"the end").
from _common import socket, trap, tcp_pair, close_all

lst, a, b = tcp_pair()


def recv_n(n):
    got = b""
    while len(got) < n:
        got += b.recv(n - len(got))
    return got


FORMS = [
    (),
    (4,),
    (0,),
    (100,),
    (-1,),
    (2, 3),
    (7, 100),
    (10, 5),
    (11, 5),
    (-1, 5),
    (3, -1),
]
for args in FORMS:
    for buf in (b"0123456789", bytearray(b"0123456789")):
        n = a.write(buf, *args)
        a.write(b"|")
        print("write", type(buf).__name__, args, n, recv_n(n + 1))
mv = memoryview(b"0123456789")[2:8]
print("memoryview slice, off 1, 3:", a.write(mv, 1, 3), recv_n(3))
print("float max_len:", trap(a.write, b"abc", 1.5))
print("None max_len:", trap(a.write, b"abc", None))
print("str off:", trap(a.write, b"abc", "1", 1))
print("int buf:", trap(a.write, 5))
print("too many args:", trap(a.write, b"abc", 0, 1, 2))
close_all(a, b, lst)
