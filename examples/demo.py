"""demo.py: the examples talking to real peers on loopback (`make demo`).

  PYTHONPATH=build/python /usr/bin/python3 examples/demo.py

1. echo_client.py <-> echo_server.py: several lines, each checked.
2. http_client.py GETs a file of random bytes from `python3 -m http.server`
   and compares its sha256.
3. curl GETs pages from http_server.py; the demo checks what curl got.
4. build/echo_c, the C API's loopback echo.

Exits 0 when every exchange is correct, 1 otherwise. Every socket has a
timeout, every wait a deadline, and every peer started here is killed by
its PID before the demo exits.
"""
import hashlib
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

try:
    import usocket  # noqa: E402  (after the path is set)
except ImportError as e:
    sys.exit("demo: cannot import usocket (%s): run `make demo`, or `make build` and "
             "PYTHONPATH=build/python" % e)

import echo_client  # noqa: E402
import http_client  # noqa: E402
import http_server  # noqa: E402

# Seconds: for a peer to get ready, for a peer or curl to finish, and for
# the whole demo (a last resort; each step is bounded on its own).
READY_TIMEOUT = 10
STEP_TIMEOUT = 20
DEMO_TIMEOUT = 120

RANDOM_FILE_SIZE = 256 * 1024
PATTERN_SIZE = 1000 * 1000


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


def say(text=""):
    print("    " + text if text else "", flush=True)


def sha(data):
    return hashlib.sha256(data).hexdigest()[:16]


def rel(path):
    return os.path.relpath(path, os.getcwd())


def free_port():
    """A port the kernel considers free on 127.0.0.1 right now."""
    s = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM)
    try:
        s.bind(usocket.getaddrinfo("127.0.0.1", 0)[0][-1])
        return s.getsockname()[1]
    finally:
        s.close()


class Peer:
    """A process the demo started, its stdout and stderr read through one
    pipe, with deadlines on every wait."""

    live = []  # every Peer not yet reaped, for the final clean-up

    def __init__(self, name, argv):
        self.name = name
        self.out = b""
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        Peer.live.append(self)

    def _read_some(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([self.proc.stdout], [], [], left)
        if not ready:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        self.out += chunk
        return bool(chunk)

    def wait_for(self, regex, timeout=READY_TIMEOUT):
        """Reads output until regex matches it; returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(regex, self.out)
            if m:
                return m
            if not self._read_some(deadline):
                text = self.out.decode(errors="replace").strip()
                raise Failed("%s never said %r; it said: %s" % (self.name, regex, text))

    def finish(self, timeout=STEP_TIMEOUT, kill=False):
        """Waits for the process to exit, killing it by its PID at once if
        kill, else past the deadline; returns its exit status and its whole
        output."""
        if kill:
            self._kill()
        deadline = time.monotonic() + timeout
        while self._read_some(deadline):
            pass
        self.reap()
        return self.proc.returncode, self.out.decode(errors="replace")

    def _kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=READY_TIMEOUT)

    def reap(self):
        """Kills the process if it still runs, waits for it, lets go."""
        self._kill()
        self.proc.stdout.close()
        if self in Peer.live:
            Peer.live.remove(self)


def python_peer(name, script, *args):
    argv = [sys.executable, "-u", os.path.join(HERE, script)]
    return Peer(name, argv + [str(a) for a in args])


def step_echo():
    port = free_port()
    server = python_peer("echo_server.py", "echo_server.py", port, 1)
    server.wait_for(rb"listening")
    lines = [
        b"hello",
        b"a usocket socket is a stream: write() and readline()",
        b"",
        "h\u00e9llo w\u00f6rld \u2713".encode(),
        b"x" * 65536,
        b"bye",
    ]
    say("echo_client.py -> echo_server.py on 127.0.0.1:%d" % port)
    echoes = echo_client.exchange("127.0.0.1", port, lines)
    sent = sum(len(line) + 1 for line in lines)
    got = sum(len(e) for e in echoes)
    say("sent %d lines (%d bytes), got %d lines (%d bytes) back" % (len(lines), sent, len(echoes), got))
    for line, echo in zip(lines, echoes):
        check(echo == line + b"\n", "echo of %r came back as %r" % (line[:40], echo[:40]))
    say("every line came back unchanged, e.g. %r" % echoes[1])
    status, out = server.finish()
    report = out.strip().splitlines()[-1]
    say("server: %s (exit status %d)" % (report, status))
    check(status == 0, "echo server exited with %d" % status)
    check(report == "echoed %d lines, %d bytes" % (len(lines), sent), "server counted otherwise")


def step_http_client(tmp):
    data = os.urandom(RANDOM_FILE_SIZE)
    with open(os.path.join(tmp, "random.bin"), "wb") as f:
        f.write(data)
    argv = [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", tmp]
    server = Peer("python3 -m http.server", argv)
    port = int(server.wait_for(rb"Serving HTTP on \S+ port (\d+)").group(1))
    say("http.server serves %d random bytes (sha256 %s...) on 127.0.0.1:%d" % (len(data), sha(data), port))

    url = "http://127.0.0.1:%d/random.bin" % port
    status, headers, body = http_client.get(url)
    say("http_client.get(%r)" % url)
    say("  %s; Content-Length: %s" % (status, http_client.header(headers, "Content-Length")))
    say("  body: %d bytes, sha256 %s..." % (len(body), sha(body)))
    check(status.split()[1:2] == ["200"], "status %r" % status)
    check(http_client.header(headers, "Content-Length") == str(len(data)), "wrong Content-Length")
    check(body == data, "the body differs from the file")
    say("  identical to the file")

    status, headers, body = http_client.get("http://127.0.0.1:%d/missing.bin" % port)
    say("http_client.get('.../missing.bin'): %s" % status)
    check(status.split()[1:2] == ["404"], "status %r for a missing file" % status)

    _, log = server.finish(kill=True)
    for m in re.finditer(r'"(GET [^"]*)" (\d+)', log):
        say("server log: %s -> %s" % m.groups())


def curl(url):
    """Runs curl; returns (status line, {lowercase header: value}, body)."""
    argv = ["curl", "-sS", "-i", "--max-time", str(STEP_TIMEOUT), url]
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=STEP_TIMEOUT + 5)
    check(r.returncode == 0, "curl %s failed: %s" % (url, r.stderr.decode().strip()))
    head, sep, body = r.stdout.partition(b"\r\n\r\n")
    check(sep, "curl's output has no header block")
    lines = head.decode().split("\r\n")
    headers = {}
    for h in lines[1:]:
        name, _, value = h.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


def step_http_server():
    port = free_port()
    server = python_peer("http_server.py", "http_server.py", port, 3)
    server.wait_for(rb"listening")
    base = "http://127.0.0.1:%d" % port
    say("curl -> http_server.py on 127.0.0.1:%d" % port)

    status, headers, body = curl(base + "/")
    say("curl %s/: %s, %d bytes" % (base, status, len(body)))
    for line in body.decode().splitlines():
        say("  | " + line)
    check(status.split()[1:2] == ["200"], "status %r" % status)
    expected = rb"Hello from usocket!\nYou asked for / with curl/[0-9.]+\.\n"
    check(re.fullmatch(expected, body), "unexpected page %r" % body)

    path = "/bytes/%d" % PATTERN_SIZE
    status, headers, body = curl(base + path)
    want = http_server.pattern(PATTERN_SIZE)
    say("curl %s%s: %s, %d bytes, sha256 %s..." % (base, path, status, len(body), sha(body)))
    check(status.split()[1:2] == ["200"], "status %r" % status)
    check(headers.get("content-length") == str(PATTERN_SIZE), "wrong Content-Length")
    check(body == want, "the body differs from the pattern (sha256 %s...)" % sha(want))
    say("  identical to http_server.pattern(%d)" % PATTERN_SIZE)

    status, headers, body = curl(base + "/nowhere")
    say("curl %s/nowhere: %s" % (base, status))
    check(status.split()[1:2] == ["404"], "status %r for /nowhere" % status)

    status, out = server.finish()
    for line in out.strip().splitlines()[1:]:
        say("server log: " + line)
    check(status == 0, "http server exited with %d" % status)


def step_echo_c():
    # The build tree that holds the module (BUILD/python/usocket/) holds
    # the C examples too; else the default one.
    builds = [os.path.dirname(os.path.dirname(os.path.abspath(usocket.__path__[0])))]
    builds.append(os.path.join(os.path.dirname(HERE), "build"))
    exes = [os.path.join(b, "echo_c") for b in builds]
    exes = [e for e in exes if os.access(e, os.X_OK)]
    check(exes, "build/echo_c is missing: run `make build`")
    exe = exes[0]
    say("running %s" % rel(exe))
    status, out = Peer(exe, [exe]).finish()
    for line in out.strip().splitlines():
        say(line)
    check(status == 0, "echo_c exited with %d" % status)


def on_alarm(signum, frame):
    raise Failed("the demo took longer than %d s" % DEMO_TIMEOUT)


def main():
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(DEMO_TIMEOUT)
    print("usocket demo: %s" % rel(usocket.__file__), flush=True)
    failed = []
    with tempfile.TemporaryDirectory(prefix="usocket-demo-") as tmp:
        steps = [
            ("echo: Python client and server", step_echo),
            ("HTTP/1.0 client against python3 -m http.server", lambda: step_http_client(tmp)),
            ("HTTP/1.0 server against curl", step_http_server),
            ("C API: build/echo_c", step_echo_c),
        ]
        try:
            for n, (title, fn) in enumerate(steps, 1):
                print("\n[%d] %s" % (n, title), flush=True)
                start = time.monotonic()
                try:
                    fn()
                    say("ok (%.2f s)" % (time.monotonic() - start))
                except Exception as e:  # report it, go on with the others
                    say("FAILED: %s: %s" % (type(e).__name__, e))
                    failed.append(title)
                finally:
                    while Peer.live:
                        Peer.live[0].reap()
        finally:
            signal.alarm(0)
            while Peer.live:
                Peer.live[0].reap()
    print()
    if failed:
        print("demo: %d of %d steps FAILED: %s" % (len(failed), len(steps), "; ".join(failed)))
        return 1
    print("demo: all %d steps ok" % len(steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
