# echo_client.py: sends lines to an echo server and reads each one back,
# using only MicroPython's usocket API.
#
#   python3 examples/echo_client.py [HOST [PORT [LINE ...]]]
#
# Runs unchanged on MicroPython.
import sys

import usocket


def exchange(host, port, lines, timeout=10):
    """Sends each line (bytes, a newline is added) and reads its echo.
    Returns the echoes, newlines included."""
    ai = usocket.getaddrinfo(host, port, 0, usocket.SOCK_STREAM)[0]
    s = usocket.socket(ai[0], ai[1], ai[2])
    s.settimeout(timeout)
    try:
        s.connect(ai[-1])
        echoes = []
        for line in lines:
            s.write(line + b"\n")
            echoes.append(s.readline())
        return echoes
    finally:
        s.close()


if __name__ == "__main__":
    argv = sys.argv[1:]
    host = argv[0] if argv else "127.0.0.1"
    port = int(argv[1]) if len(argv) > 1 else 8007
    lines = [a.encode() for a in argv[2:]] or [b"hello", b"world"]
    ok = True
    for sent, got in zip(lines, exchange(host, port, lines)):
        print(repr(got))
        ok = ok and got == sent + b"\n"
    sys.exit(0 if ok else 1)
