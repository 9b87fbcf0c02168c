# SPEC 5: write: everything on a blocking socket, returns the count;
# non-blocking: the count written (maybe short), None if nothing fits.
from _common import socket, trap, tcp_pair, close_all

lst, a, b = tcp_pair()
print("write:", a.write(b"hello"), b.recv(10))
a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
a.setblocking(False)
total = 0
results = []
for _ in range(10000):
    n = a.write(b"z" * 65536)
    if n is None:
        break
    total += n
    results.append(n)
print("non-blocking fills up, then None:", n, total > 0)
print("short writes seen:", any(r < 65536 for r in results))
a.setblocking(True)
got = 0
for _ in range(100000):
    if got >= total:
        break
    got += len(b.recv(65536))
print("peer got it all:", got == total)
print("write str type:", trap(a.write, 12))
close_all(a, b, lst)
