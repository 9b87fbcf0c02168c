# http_server.py: a tiny HTTP/1.0 server using only MicroPython's usocket API.
#
#   python3 examples/http_server.py [PORT [REQUESTS]]
#
# Listens on 127.0.0.1:PORT (default 8080) and answers REQUESTS requests
# (0, the default: forever), one connection at a time:
#   GET /          a short text page naming the path and the client
#   GET /bytes/N   N bytes of a fixed pattern (see pattern())
#   anything else  404
# Runs unchanged on MicroPython.
import sys

import usocket

# Seconds a client may stay silent before the server gives up on it.
CLIENT_TIMEOUT = 10
# A request with more header lines than this is refused.
MAX_HEADERS = 64
# The largest body /bytes/N will send.
MAX_BYTES = 16 * 1024 * 1024


def pattern(n):
    """The body of /bytes/N: a 16-byte block repeated, cut to n bytes."""
    block = b"0123456789abcdef"
    return (block * (n // len(block) + 1))[:n]


def read_request(conn):
    """Reads a request line and its headers. Returns (method, path,
    {lowercase name: value}), or None if the client sent nothing."""
    line = conn.readline()
    if not line:
        return None
    parts = line.decode().split()
    if len(parts) < 2:
        raise ValueError("bad request line")
    headers = {}
    for _ in range(MAX_HEADERS):
        h = conn.readline()
        if h in (b"\r\n", b"\n", b""):
            return parts[0], parts[1], headers
        colon = h.find(b":")
        if colon > 0:
            name = h[:colon].decode().strip().lower()
            headers[name] = h[colon + 1 :].decode().strip()
    raise ValueError("too many headers")


def respond(conn, status, body, ctype="text/plain"):
    head = "HTTP/1.0 %s\r\nServer: usocket-example\r\n" % status
    head += "Content-Type: %s\r\nContent-Length: %d\r\n\r\n" % (ctype, len(body))
    conn.write(head.encode())
    conn.write(body)


def handle(conn):
    """Answers one request; returns its log line."""
    req = read_request(conn)
    if req is None:
        return "(no request)"
    method, path, headers = req
    if method != "GET":
        respond(conn, "501 Not Implemented", b"only GET\n")
        return "%s %s -> 501" % (method, path)
    if path == "/":
        agent = headers.get("user-agent", "an unnamed client")
        page = "Hello from usocket!\nYou asked for %s with %s.\n" % (path, agent)
        respond(conn, "200 OK", page.encode())
        return "GET / -> 200"
    if path.startswith("/bytes/"):
        try:
            n = int(path[7:])
        except ValueError:
            n = -1
        if 0 <= n <= MAX_BYTES:
            respond(conn, "200 OK", pattern(n), "application/octet-stream")
            return "GET %s -> 200, %d bytes" % (path, n)
    respond(conn, "404 Not Found", b"not found\n")
    return "GET %s -> 404" % path


def serve(port, requests=0):
    addr = usocket.getaddrinfo("127.0.0.1", port)[0][-1]
    s = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM)
    s.setsockopt(usocket.SOL_SOCKET, usocket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(5)
    print("http server listening on 127.0.0.1:%d" % port)
    served = 0
    try:
        while requests == 0 or served < requests:
            conn, peer = s.accept()
            conn.settimeout(CLIENT_TIMEOUT)
            try:
                print(handle(conn))
            except (OSError, ValueError) as e:
                print("request failed:", e)
            finally:
                conn.close()
            served += 1
    finally:
        s.close()


if __name__ == "__main__":
    argv = sys.argv[1:]
    serve(int(argv[0]) if argv else 8080, int(argv[1]) if len(argv) > 1 else 0)
