# SPEC 2, inet_ntop/inet_pton: IPv4 dotted text, IPv6 in RFC 5952 form;
# wrong length ValueError, unknown family EAFNOSUPPORT, bad text EINVAL.
from _common import socket, trap

print(socket.inet_ntop(socket.AF_INET, b"\x7f\x00\x00\x01"))
print(socket.inet_ntop(socket.AF_INET, bytearray(b"\xc0\xa8\x01\xff")))
print(socket.inet_ntop(socket.AF_INET6, b"\x20\x01\x0d\xb8" + bytes(11) + b"\x01"))
print(socket.inet_ntop(socket.AF_INET6, bytes(16)))
print(socket.inet_ntop(socket.AF_INET6, bytes(15) + b"\x01"))
# RFC 5952: the longest run of zeros is compressed, the first on a tie,
# and a single zero group is not.
print(socket.inet_ntop(socket.AF_INET6, b"\x20\x01\x0d\xb8\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01"))
print(socket.inet_ntop(socket.AF_INET6, b"\x20\x01\x0d\xb8\x00\x00\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01"))
print(socket.inet_ntop(socket.AF_INET6, b"\x20\x01\x0D\xB8\xAB\xCD" + bytes(10)))

print(socket.inet_pton(socket.AF_INET, "10.0.0.1"))
print(socket.inet_pton(socket.AF_INET6, "::1"))
print(socket.inet_pton(socket.AF_INET6, "2001:DB8::ff00:42:8329"))
print(socket.inet_pton(socket.AF_INET6, "::ffff:1.2.3.4"))
for t in ("2001:db8::1", "fe80::1", "::"):
    print(t, socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, t)) == t)

print("ntop short v4:", trap(socket.inet_ntop, socket.AF_INET, b"\x01\x02\x03"))
print("ntop long v6:", trap(socket.inet_ntop, socket.AF_INET6, bytes(17)))
print("ntop family:", trap(socket.inet_ntop, 12345, bytes(4)))
print("pton family:", trap(socket.inet_pton, 12345, "1.2.3.4"))
print("pton bad v4:", trap(socket.inet_pton, socket.AF_INET, "1.2.3"))
print("pton bad v4 range:", trap(socket.inet_pton, socket.AF_INET, "256.1.1.1"))
print("pton v6 text as v4:", trap(socket.inet_pton, socket.AF_INET, "::1"))
print("pton bad v6:", trap(socket.inet_pton, socket.AF_INET6, "1:::2"))
