# SPEC 2, socket(): defaults, proto chosen from type, bad family/type
# give OSError, wrong argument types give TypeError.
from _common import socket, trap, ename, E

SO_PROTOCOL = 38  # Linux: the protocol the kernel chose

s = socket.socket()
print("default is TCP:", s.getsockopt(socket.SOL_SOCKET, SO_PROTOCOL) == socket.IPPROTO_TCP)
s.close()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("DGRAM proto 0 is UDP:", s.getsockopt(socket.SOL_SOCKET, SO_PROTOCOL) == socket.IPPROTO_UDP)
s.close()
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP)
print("explicit proto:", s.getsockopt(socket.SOL_SOCKET, SO_PROTOCOL) == socket.IPPROTO_TCP)
s.close()

print("bad family:", trap(socket.socket, 12345, socket.SOCK_STREAM))
r = trap(socket.socket, socket.AF_INET, 123456)
print("bad type is OSError:", r.startswith("OSError"))
print("bad type errno:", r.split()[-1] in ("EPROTONOSUPPORT", "EINVAL", "ESOCKTNOSUPPORT"))
print("bad proto:", trap(socket.socket, socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_UDP))
print("family None:", trap(socket.socket, None))
print("type str:", trap(socket.socket, socket.AF_INET, "stream"))
print("proto None:", trap(socket.socket, socket.AF_INET, socket.SOCK_STREAM, None))
