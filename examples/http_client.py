# http_client.py: an HTTP/1.0 GET using only MicroPython's usocket API.
#
#   python3 examples/http_client.py http://HOST[:PORT]/PATH [OUTFILE]
#
# Prints the status line and headers, then writes the body to OUTFILE (or
# prints its size). Runs unchanged on MicroPython.
import sys

import usocket


def split_url(url):
    """'http://host:port/path' -> (host, port, '/path')."""
    if not url.startswith("http://"):
        raise ValueError("only http:// URLs are supported")
    rest = url[7:]
    slash = rest.find("/")
    if slash < 0:
        hostport, path = rest, "/"
    else:
        hostport, path = rest[:slash], rest[slash:]
    colon = hostport.rfind(":")
    if colon < 0:
        return hostport, 80, path
    return hostport[:colon], int(hostport[colon + 1 :]), path


def get(url, timeout=10):
    """Fetches url. Returns (status line, [header lines], body), the status
    and headers as str without their CRLF, the body as bytes."""
    host, port, path = split_url(url)
    ai = usocket.getaddrinfo(host, port, 0, usocket.SOCK_STREAM)[0]
    s = usocket.socket(ai[0], ai[1], ai[2])
    s.settimeout(timeout)
    try:
        s.connect(ai[-1])
        request = "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: usocket\r\n\r\n"
        s.write((request % (path, host)).encode())
        status = s.readline().decode().rstrip("\r\n")
        headers = []
        while True:
            line = s.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            headers.append(line.decode().rstrip("\r\n"))
        # HTTP/1.0: the server closes the connection after the body.
        body = s.read()
        return status, headers, body
    finally:
        s.close()


def header(headers, name):
    """The value of the first header called name (any case), or None."""
    name = name.lower()
    for h in headers:
        colon = h.find(":")
        if colon > 0 and h[:colon].strip().lower() == name:
            return h[colon + 1 :].strip()
    return None


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: http_client.py http://HOST[:PORT]/PATH [OUTFILE]")
        sys.exit(2)
    status, headers, body = get(sys.argv[1])
    print(status)
    for h in headers:
        print(h)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "wb") as f:
            f.write(body)
    print("(%d bytes of body)" % len(body))
    sys.exit(0 if status.split(" ")[1:2] == ["200"] else 1)
