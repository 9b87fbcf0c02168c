# SPEC 4: the constants, with the platform's values. IPPROTO_TCP and
# IPPROTO_UDP are missing from MicroPython's unix module.
from _common import socket

NAMES = (
    "AF_INET AF_INET6 SOCK_STREAM SOCK_DGRAM SOCK_RAW IPPROTO_IP IPPROTO_TCP "
    "IPPROTO_UDP IPPROTO_IPV6 SOL_SOCKET SO_REUSEADDR SO_KEEPALIVE "
    "SO_BROADCAST SO_ERROR SO_LINGER SO_RCVBUF SO_SNDBUF SO_REUSEPORT "
    "TCP_NODELAY IP_ADD_MEMBERSHIP IP_DROP_MEMBERSHIP IP_MULTICAST_TTL "
    "MSG_PEEK MSG_DONTWAIT"
).split()
for name in NAMES:
    print(name, getattr(socket, name, "missing"))

# They work where they are meant to.
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print("TCP_NODELAY set:", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0)
s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
u.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 3)
print("IP_MULTICAST_TTL:", u.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL))
u.close()
