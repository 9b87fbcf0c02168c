# SPEC 5: settimeout/setblocking. Expiry is OSError ETIMEDOUT on every
# blocking call (MicroPython's unix module says EAGAIN), bounded by the
# timeout; 0 is non-blocking (EAGAIN); negative is ValueError.
from _common import socket, trap, now, tcp_pair, close_all

lst, a, b = tcp_pair()
print("negative:", trap(a.settimeout, -1))
print("None:", trap(a.settimeout, None), "int:", trap(a.settimeout, 1), "float:", trap(a.settimeout, 0.5))
print("str:", trap(a.settimeout, "1"))

a.settimeout(0.25)
for name, args in (("recv", (10,)), ("read", (10,)), ("readline", ()), ("readinto", (bytearray(4),))):
    t = now()
    r = trap(getattr(a, name), *args)
    print(name, "expires:", r, 0.2 <= now() - t < 2)

# The deadline holds for a whole call, however the data trickles in.
b.send(b"part")
t = now()
r = a.read(100)
print("read returns what came by the deadline:", r, 0.2 <= now() - t < 2)
print("then the timeout:", trap(a.read, 1))

a.settimeout(0)
print("non-blocking recv:", trap(a.recv, 1))
print("non-blocking read:", a.read(10), "readline:", a.readline(), "readinto:", a.readinto(bytearray(3)))
a.setblocking(True)
b.send(b"!")
print("setblocking(True):", a.recv(1))
a.setblocking(False)
print("setblocking(False):", trap(a.recv, 1))
a.settimeout(None)
b.send(b"?")
print("settimeout(None):", a.recv(1))

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
u.settimeout(0.2)
t = now()
print("recvfrom expires:", trap(u.recvfrom, 10), 0.15 <= now() - t < 2)
close_all(u, a, b, lst)
