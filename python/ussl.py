"""ussl: MicroPython's ssl (tls) module on CPython, over usocket's sockets.

Secure by default: a client verifies the server's certificate and host
name against the platform's CA store unless told otherwise. The objects
live in the usocket extension (usocket._ussl), built with a TLS engine.
"""
from usocket import _ussl

__all__ = [
    "SSLContext",
    "SSLSocket",
    "wrap_socket",
    "PROTOCOL_TLS_CLIENT",
    "PROTOCOL_TLS_SERVER",
    "CERT_NONE",
    "CERT_OPTIONAL",
    "CERT_REQUIRED",
    "ENGINE",
]

globals().update((name, getattr(_ussl, name)) for name in __all__)
