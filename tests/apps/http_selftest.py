# http_selftest.py HOST PORT: fetches the test server's pages with
# http_client.py (a body by Content-Length, one by chunks, one ended by
# EOF, a POST echoed back, a redirect, a 404) and prints, for each, the
# status, the body's length and Adler-32, and a verdict (last line "PASS
# ..." or "FAIL ..."). The server (tests/py/test_apps.py) makes its bodies
# with pattern() below. Runs unchanged under MicroPython and CPython.
import sys

import http_client


def pattern(n):
    return bytes((i * 13 + i // 256) & 0xFF for i in range(n))


def adler32(data):
    a, b = 1, 0
    for byte in data:
        a = (a + byte) % 65521
        b = (b + a) % 65521
    return (b << 16) | a


def show(label, r):
    print(
        "%s: %d %s, %d bytes, adler32 %08x"
        % (label, r.status, r.reason, len(r.content), adler32(r.content))
    )


def main(host, port):
    base = "http://%s:%d" % (host, port)
    failures = []

    def check(what, ok):
        if not ok:
            failures.append(what)

    r = http_client.get(base + "/fixed", timeout=10)
    show("GET /fixed", r)
    check("/fixed body", r.status == 200 and r.content == pattern(50000))

    r = http_client.get(base + "/chunked", timeout=10)
    show("GET /chunked", r)
    print("  transfer-encoding:", r.headers.get("transfer-encoding"))
    check("/chunked body", r.status == 200 and r.content == pattern(34204))

    r = http_client.get(base + "/eof", timeout=10)
    show("GET /eof", r)
    check("/eof body", r.status == 200 and r.content == b"until EOF\n" * 300)

    text = "h\u00e9llo w\u00f6rld \u2713 " * 200
    r = http_client.post(
        base + "/echo", text, headers={"Content-Type": "text/plain; charset=utf-8"}, timeout=10
    )
    show("POST /echo", r)
    print("  server counted:", r.headers.get("x-received-length"))
    check("/echo body", r.status == 200 and r.text == text)

    r = http_client.get(base + "/redirect", timeout=10)
    show("GET /redirect", r)
    check("/redirect followed", r.status == 200 and r.content == pattern(50000))

    r = http_client.get(base + "/missing", timeout=10)
    show("GET /missing", r)
    check("/missing status", r.status == 404)

    if failures:
        print("FAIL http:", ", ".join(failures))
    else:
        print("PASS http: 6 requests, every body byte-exact")


main(sys.argv[1], int(sys.argv[2]))
