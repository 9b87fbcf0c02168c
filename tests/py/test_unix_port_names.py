"""test_unix_port_names.py: every name of MicroPython's unix port `socket`
module (ports/unix/modsocket.c) and of its socket type is in ours, in
both homes, with the platform's value; so code written for the unix port
finds what it uses. MICROPYTHON names our MicroPython binary;
MICROPYTHON_STOCK, when set, a stock unix port build to check the list
below against, so that it cannot fall behind the port unseen."""
import os
import socket
import subprocess

import pytest

import usocket

# dir(socket) and dir(socket.socket) of the unix port, dunders left out.
UNIX_PORT_MODULE = (
    "AF_INET AF_INET6 AF_UNIX IP_ADD_MEMBERSHIP IP_DROP_MEMBERSHIP "
    "MSG_DONTROUTE MSG_DONTWAIT MSG_PEEK SOCK_DGRAM SOCK_RAW SOCK_STREAM "
    "SOL_SOCKET SO_BROADCAST SO_ERROR SO_KEEPALIVE SO_LINGER SO_REUSEADDR "
    "getaddrinfo inet_ntop inet_pton sockaddr socket"
).split()
UNIX_PORT_SOCKET = (
    "accept bind close connect fileno listen makefile read readinto "
    "readline recv recvfrom send sendall sendto setblocking setsockopt "
    "settimeout write"
).split()

LISTING = (
    "import socket\n"
    "print(' '.join(sorted(n for n in dir(socket) if not n.startswith('__'))))\n"
    "print(' '.join(sorted(n for n in dir(socket.socket)"
    " if not n.startswith('__'))))\n"
)


def names_under(binary, tmp_path):
    script = tmp_path / "names.py"
    script.write_text(LISTING)
    r = subprocess.run([binary, str(script)], capture_output=True, text=True,
                       timeout=30)
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) == 2, r.stdout + r.stderr
    return lines[0].split(), lines[1].split()


def constants(names):
    return [n for n in names if n.isupper()]


def test_cpython_module_has_every_unix_port_name():
    missing = [n for n in UNIX_PORT_MODULE if not hasattr(usocket, n)]
    assert missing == []
    missing = [n for n in UNIX_PORT_SOCKET if not hasattr(usocket.socket, n)]
    assert missing == []


def test_cpython_module_constants_have_the_platform_values():
    for n in constants(UNIX_PORT_MODULE):
        assert getattr(usocket, n) == getattr(socket, n), n


def test_micropython_module_has_every_unix_port_name(tmp_path):
    mp = os.environ.get("MICROPYTHON", "").split(":")[0]
    if not mp:
        pytest.skip("MICROPYTHON is not set")
    module, sock = names_under(mp, tmp_path)
    assert [n for n in UNIX_PORT_MODULE if n not in module] == []
    assert [n for n in UNIX_PORT_SOCKET if n not in sock] == []
    # The values: each is the platform's (CPython's socket module has them).
    script = tmp_path / "values.py"
    script.write_text("import socket\nfor n in %r:\n    print(n, getattr(socket, n))\n"
                      % constants(UNIX_PORT_MODULE))
    r = subprocess.run([mp, str(script)], capture_output=True, text=True,
                       timeout=30)
    want = ["%s %d" % (n, getattr(socket, n)) for n in constants(UNIX_PORT_MODULE)]
    assert r.stdout.splitlines() == want, r.stdout + r.stderr


def test_the_list_is_the_stock_unix_ports(tmp_path):
    stock = os.environ.get("MICROPYTHON_STOCK", "")
    if not stock:
        pytest.skip("MICROPYTHON_STOCK is not set")
    module, sock = names_under(stock, tmp_path)
    assert sorted(module) == sorted(UNIX_PORT_MODULE)
    assert sorted(sock) == sorted(UNIX_PORT_SOCKET)
