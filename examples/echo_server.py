# echo_server.py: a line echo server using only MicroPython's usocket API.
#
#   python3 examples/echo_server.py [PORT [CLIENTS]]
#
# Listens on 127.0.0.1:PORT (default 8007) and sends every line it reads
# back to its sender, until the client closes. Serves CLIENTS clients one
# after another (0, the default: forever). Runs unchanged on MicroPython.
import sys

import usocket

# Seconds a client may stay silent before the server gives up on it.
CLIENT_TIMEOUT = 10


def listen(port, host="127.0.0.1"):
    addr = usocket.getaddrinfo(host, port)[0][-1]
    s = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM)
    s.setsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(5)
    return s


def echo(conn):
    """Echoes lines until EOF; returns (lines, bytes) echoed."""
    lines = 0
    total = 0
    while True:
        line = conn.readline()
        if not line:
            return lines, total
        conn.write(line)
        lines += 1
        total += len(line)


def serve(port, clients=0):
    s = listen(port)
    print("echo server listening on 127.0.0.1:%d" % port)
    served = 0
    try:
        while clients == 0 or served < clients:
            conn, peer = s.accept()
            conn.settimeout(CLIENT_TIMEOUT)
            try:
                lines, total = echo(conn)
                print("echoed %d lines, %d bytes" % (lines, total))
            except OSError as e:
                print("client dropped:", e)
            finally:
                conn.close()
            served += 1
    finally:
        s.close()


if __name__ == "__main__":
    argv = sys.argv[1:]
    serve(int(argv[0]) if argv else 8007, int(argv[1]) if len(argv) > 1 else 0)
