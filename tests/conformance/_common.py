# _common.py: what the conformance scripts share. Runs unchanged under
# CPython (with our usocket on the path) and under MicroPython.
import errno
import gc

import usocket as socket

try:
    from time import monotonic as _mono

    def now():
        return _mono()

except ImportError:  # MicroPython
    from time import ticks_diff, ticks_ms

    _t0 = ticks_ms()

    def now():
        return ticks_diff(ticks_ms(), _t0) / 1000


# MicroPython's errno lacks some names; the values are Linux's, as are
# the module's constants (the platform's own).
_LINUX = {
    "EPIPE": 32,
    "EINVAL": 22,
    "EBADF": 9,
    "EAGAIN": 11,
    "EINPROGRESS": 115,
    "ETIMEDOUT": 110,
    "ECONNREFUSED": 111,
    "ECONNRESET": 104,
    "ENOTCONN": 107,
    "EADDRINUSE": 98,
    "EAFNOSUPPORT": 97,
    "EPROTONOSUPPORT": 93,
    "ESOCKTNOSUPPORT": 94,
    "EPROTOTYPE": 91,
    "EISCONN": 106,
    "EALREADY": 114,
    "ENOPROTOOPT": 92,
}
E = {}
_NAMES = {}
for _n, _v in _LINUX.items():
    E[_n] = getattr(errno, _n, _v)
    _NAMES[E[_n]] = _n


def ename(code):
    return _NAMES.get(code, str(code))


def trap(fn, *args):
    """Calls fn(*args); describes the outcome in words that both hosts
    share: 'ok', 'OSError ENAME' (any OSError subclass), or a type name."""
    try:
        fn(*args)
        return "ok"
    except OSError as e:
        return "OSError " + ename(e.args[0])
    except Exception as e:
        return type(e).__name__


def loopback(port=0):
    return socket.getaddrinfo("127.0.0.1", port)[0][-1]


def listener(backlog=4):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(loopback())
    s.listen(backlog)
    return s


def tcp_pair():
    """(listening socket, client, accepted server side), all blocking."""
    lst = listener()
    cli = socket.socket()
    cli.connect(lst.getsockname())
    srv, _ = lst.accept()
    return lst, cli, srv


def close_all(*socks):
    for s in socks:
        s.close()
    gc.collect()
