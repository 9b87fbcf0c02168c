# SPEC 5: readline returns one line with its newline, or the rest at EOF,
# and never takes a byte past the newline from the kernel: recv, read and
# poll on fileno() see exactly what follows.
import select
from _common import socket, tcp_pair, close_all

lst, a, b = tcp_pair()
b.send(b"first\nsecond\nthird")
print(a.readline())
p = select.poll()
p.register(a.fileno(), select.POLLIN)
print("poll still sees the rest:", [ev for _, ev in p.poll(0)] == [select.POLLIN])
print("recv sees the next byte:", a.recv(3))
print(a.readline())
b.send(b"\n")
print(a.readline())
b.send(b"x" * 5000 + b"\nafter")
line = a.readline()
print("long line:", len(line), line[-1:])
print("limit:", a.readline(3))
b.send(b"\n")
print(a.readline())
print("nothing left for poll:", p.poll(0))
b.send(b"no newline")
b.shutdown(1)
print("rest at EOF:", a.readline(), "then:", a.readline())
close_all(a, b, lst)
