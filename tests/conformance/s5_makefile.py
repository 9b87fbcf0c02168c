# SPEC 5: makefile(): binary modes only; the result has the stream
# methods, and closing it closes the socket.
from _common import socket, trap, tcp_pair, close_all

lst, a, b = tcp_pair()
for mode in ("rb", "wb", "rwb"):
    print(mode, trap(a.makefile, mode))
for mode in ("r+", "t", "rt", "x"):
    print(mode, trap(a.makefile, mode))
f = b.makefile("rwb", 0)
a.send(b"line one\nline two\n")
print(f.readline(), f.read(4), f.readline())
print("write:", f.write(b"back\n"), a.recv(10))
f.close()
print("closing the file closes the socket:", b.fileno())
f = a.makefile()
print("default mode reads:", trap(f.readline))
close_all(a, lst)
