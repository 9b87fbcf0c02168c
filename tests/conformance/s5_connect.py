# SPEC 5: bind (already bound: the OS error), listen (negative backlog,
# default), accept (inherits the timeout), connect (refused, timed,
# non-blocking EINPROGRESS).
from _common import socket, trap, now, listener, loopback, close_all, E

s = socket.socket()
s.bind(loopback())
print("bind twice:", trap(s.bind, loopback()))
s2 = socket.socket()
print("address in use:", trap(s2.bind, s.getsockname()))
print("listen(-5):", trap(s.listen, -5))
close_all(s, s2)
s = socket.socket()
s.bind(loopback())
print("listen():", trap(s.listen))
port = s.getsockname()[1]
s.close()

c = socket.socket()
print("refused:", trap(c.connect, ("127.0.0.1", port)))
c.close()

# accept honours the timeout, and the new socket inherits it.
lst = listener()
lst.settimeout(0.2)
t = now()
print("accept timeout:", trap(lst.accept), 0.1 < now() - t < 2)
c = socket.socket()
c.connect(lst.getsockname())
conn, _ = lst.accept()
t = now()
print("inherited timeout:", trap(conn.recv, 1), 0.1 < now() - t < 2)
close_all(conn, c)
lst.settimeout(0)
print("non-blocking accept:", trap(lst.accept))
lst.settimeout(None)
c = socket.socket()
c.connect(lst.getsockname())
conn, _ = lst.accept()
conn.settimeout(0)
print("blocking accept gives blocking socket, non-blocking stays:", trap(conn.recv, 1))
close_all(conn, c, lst)

# A non-blocking connect reports EINPROGRESS, then completes.
lst = listener()
c = socket.socket()
c.setblocking(False)
r = trap(c.connect, lst.getsockname())
print("non-blocking connect:", r in ("OSError EINPROGRESS", "ok"))
import select
p = select.poll()
p.register(c.fileno(), select.POLLOUT)
ev = p.poll(2000)
print("becomes writable:", len(ev) == 1 and bool(ev[0][1] & select.POLLOUT))
print("SO_ERROR:", c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
conn, _ = lst.accept()
close_all(conn, c, lst)

# A timed connect gives up at its deadline, not the kernel's minutes:
# a full accept queue makes the kernel drop the SYNs.
lst = socket.socket()
lst.bind(loopback())
lst.listen(0)
fill = []
timed_out = False
for i in range(8):
    c = socket.socket()
    c.settimeout(0.3)
    t = now()
    try:
        c.connect(lst.getsockname())
        fill.append(c)
    except OSError as e:
        timed_out = e.args[0] == E["ETIMEDOUT"]
        print("timed connect:", "OSError ETIMEDOUT" if timed_out else e.args[0], 0.2 < now() - t < 2)
        c.close()
        break
print("timed out before the queue drained:", timed_out)
close_all(lst, *fill)
