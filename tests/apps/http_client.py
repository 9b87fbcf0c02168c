# http_client.py: a small HTTP/1.1 client written the way micropython-lib
# writes its `requests`: `import socket`, the request line and headers
# written as str (MicroPython's socket takes str as UTF-8, and so does
# usocket under CPython), headers read with readline(), the body read with
# read(n) by Content-Length, by chunks (Transfer-Encoding: chunked) or to
# EOF, and redirects followed. It runs unchanged under MicroPython with
# usocket and under CPython through `python3 -m usocket run`, which is what
# tests/py/test_apps.py checks.
import socket

MAX_REDIRECTS = 5


class HTTPError(Exception):
    pass


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> value, both str
        self.content = body

    @property
    def text(self):
        return str(self.content, "utf-8")


def _split_url(url):
    if not url.startswith("http://"):
        raise ValueError("only http:// URLs: " + url)
    rest = url[7:]
    slash = rest.find("/")
    if slash < 0:
        hostport, path = rest, "/"
    else:
        hostport, path = rest[:slash], rest[slash:]
    port = 80
    if ":" in hostport:
        hostport, p = hostport.split(":", 1)
        port = int(p)
    return hostport, port, path


def _read_exactly(s, n):
    data = s.read(n)
    if data is None or len(data) != n:
        raise HTTPError("connection closed inside the body")
    return data


def _read_chunked(s):
    parts = []
    while True:
        line = s.readline()
        if not line:
            raise HTTPError("connection closed before the last chunk")
        # A chunk size may carry extensions after ';'.
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            break
        parts.append(_read_exactly(s, size))
        if s.readline() != b"\r\n":
            raise HTTPError("chunk not followed by CRLF")
    # The trailer: header lines up to an empty one.
    while True:
        line = s.readline()
        if not line or line == b"\r\n":
            break
    return b"".join(parts)


def _once(method, host, port, path, body, headers, timeout):
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    s = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
    try:
        if timeout is not None:
            s.settimeout(timeout)
        s.connect(ai[-1])
        s.write(method + " " + path + " HTTP/1.1\r\n")
        s.write("Host: %s:%d\r\n" % (host, port))
        s.write("Connection: close\r\n")
        for name in headers:
            s.write(name)
            s.write(": ")
            s.write(headers[name])
            s.write("\r\n")
        if body is not None:
            if isinstance(body, str):
                body = body.encode()
            s.write("Content-Length: %d\r\n" % len(body))
        s.write("\r\n")
        if body:
            s.write(body)

        status_line = s.readline()
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise HTTPError("bad status line %r" % status_line)
        status = int(parts[1])
        reason = str(parts[2].rstrip(), "utf-8") if len(parts) > 2 else ""
        got = {}
        while True:
            line = s.readline()
            if not line or line == b"\r\n":
                break
            name, value = str(line, "utf-8").split(":", 1)
            got[name.strip().lower()] = value.strip()

        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            data = b""
        elif "chunked" in got.get("transfer-encoding", "").lower():
            data = _read_chunked(s)
        elif "content-length" in got:
            n = int(got["content-length"])
            data = _read_exactly(s, n) if n else b""
        else:
            data = s.read()  # no framing: the body ends at EOF
        return Response(status, reason, got, data)
    finally:
        s.close()


def request(method, url, data=None, headers=None, timeout=None):
    if headers is None:
        headers = {}
    for _ in range(MAX_REDIRECTS + 1):
        host, port, path = _split_url(url)
        r = _once(method, host, port, path, data, headers, timeout)
        if r.status not in (301, 302, 303, 307, 308) or "location" not in r.headers:
            return r
        where = r.headers["location"]
        if where.startswith("/"):
            where = "http://%s:%d%s" % (host, port, where)
        url = where
        if r.status in (301, 302, 303):
            method, data = "GET", None
    raise HTTPError("too many redirects")


def get(url, **kw):
    return request("GET", url, **kw)


def post(url, data, **kw):
    return request("POST", url, data=data, **kw)
