# SPEC 2, getaddrinfo(): 5-tuples, filters, host and port forms, and
# resolver failures as OSError with the resolver's NEGATIVE code in
# args[0] (MicroPython's unix module reports a positive or text error).
from _common import socket, trap

AI_NUMERICHOST = getattr(socket, "AI_NUMERICHOST", 4)

res = socket.getaddrinfo("127.0.0.1", 80)
print("list of 5-tuples:", isinstance(res, list), all(len(r) == 5 for r in res))
fam, typ, proto, canon, addr = res[0]
print("first:", fam == socket.AF_INET, canon, addr)
kinds = sorted((r[1], r[2]) for r in res)
print("TCP and UDP both offered:", (socket.SOCK_STREAM, socket.IPPROTO_TCP) in kinds,
      (socket.SOCK_DGRAM, socket.IPPROTO_UDP) in kinds)

# Filters: 0 means any.
r = socket.getaddrinfo("127.0.0.1", 80, 0, socket.SOCK_STREAM)
print("type filter:", all(x[1] == socket.SOCK_STREAM for x in r), len(r) >= 1)
r = socket.getaddrinfo("127.0.0.1", 80, 0, 0, socket.IPPROTO_UDP)
print("proto filter:", all(x[2] == socket.IPPROTO_UDP for x in r), len(r) >= 1)
r = socket.getaddrinfo("::1", 443, socket.AF_INET6, socket.SOCK_STREAM)
print("IPv6:", r[0][0] == socket.AF_INET6, r[0][4])
print("family mismatch is an error:", trap(socket.getaddrinfo, "::1", 80, socket.AF_INET).startswith("OSError"))

# Host forms: str, bytes, None (the loopback, or any with AI_PASSIVE).
print("bytes host:", socket.getaddrinfo(b"127.0.0.1", 7, 0, socket.SOCK_STREAM)[0][4])
r = socket.getaddrinfo(None, 7, socket.AF_INET, socket.SOCK_STREAM)
print("None host:", r[0][4])
r = socket.getaddrinfo("localhost", 8080, socket.AF_INET, socket.SOCK_STREAM)
print("name:", r[0][4])

# Port forms: int, numeric str, service name.
print("str port:", socket.getaddrinfo("127.0.0.1", "8080", 0, socket.SOCK_STREAM)[0][4])
print("service port:", socket.getaddrinfo("127.0.0.1", "http", 0, socket.SOCK_STREAM)[0][4])
print("port 0:", socket.getaddrinfo("127.0.0.1", 0, 0, socket.SOCK_STREAM)[0][4])
print("port 65535:", socket.getaddrinfo("127.0.0.1", 65535, 0, socket.SOCK_STREAM)[0][4])
print("port 65536:", trap(socket.getaddrinfo, "127.0.0.1", 65536))
print("port -1:", trap(socket.getaddrinfo, "127.0.0.1", -1))

# Failures: the resolver's code, negative (EAI_NONAME is -2 on glibc).
try:
    socket.getaddrinfo("not-a-number.invalid", 80, 0, 0, 0, AI_NUMERICHOST)
    print("no error")
except OSError as e:
    print("EAI_NONAME:", e.args[0], type(e.args[0]) is int)
try:
    socket.getaddrinfo("127.0.0.1", "no-such-service-xyz")
    print("no error")
except OSError as e:
    print("bad service is negative:", e.args[0] < 0)
print("host int:", trap(socket.getaddrinfo, 127, 80))
