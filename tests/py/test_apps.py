"""Real client programs as acceptance: the MQTT and HTTP clients of
tests/apps, written as micropython-lib writes its own (`import socket`,
the stream calls read/readline/write, str writes, non-blocking read(1)),
run unchanged against real peers under both hosts:

- MicroPython with our module: the binary that MICROPYTHON names (also
  run by `make test-micropython`);
- CPython with our module: `python3 -m usocket run script.py args`, where
  `import socket` gives usocket.

The peers are a mosquitto broker this file starts on a loopback port of
its own, and a CPython http.server in a thread. Each program prints what
it received and a verdict; the tests compare every line.
"""
import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
import zlib

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.normpath(os.path.join(HERE, "..", "apps"))

PYTHON = "/usr/bin/python3"
RUN_TIMEOUT = 15  # seconds per program; each does a few loopback exchanges
NO_RUNNER = "no runner (python3 -m usocket run)"


def module_path():
    """Where the built usocket is: PYTHONPATH as `make test-py` sets it,
    else the default build directory (absolute: the programs run in
    tests/apps)."""
    path = os.environ.get("PYTHONPATH")
    if path:
        return os.pathsep.join(os.path.abspath(p) for p in path.split(os.pathsep))
    return os.path.abspath(os.path.join(HERE, "..", "..", "build", "python"))


def runner_present():
    """Whether `python3 -m usocket run` exists: usocket.__main__ can be
    found with our module on the path."""
    probe = ("import importlib.util, sys\n"
             "try:\n"
             "    found = importlib.util.find_spec('usocket.__main__') is not None\n"
             "except ImportError:\n"
             "    found = False\n"
             "sys.exit(0 if found else 3)\n")
    env = dict(os.environ, PYTHONPATH=module_path())
    r = subprocess.run([PYTHON, "-c", probe], env=env, capture_output=True,
                       timeout=30)
    return r.returncode == 0


def command(host):
    """The command line that runs a program under `host`, and its env."""
    if host == "micropython":
        mp = os.environ.get("MICROPYTHON", "").split(":")[0]
        if not mp:
            pytest.skip("MICROPYTHON is not set (a MicroPython binary built "
                        "with usocket, see micropython/README.md)")
        # The programs run in tests/apps: a path means the caller's.
        return [os.path.abspath(mp) if os.sep in mp else mp], dict(os.environ)
    if not runner_present():
        pytest.skip(NO_RUNNER)
    return ([PYTHON, "-m", "usocket", "run"],
            dict(os.environ, PYTHONPATH=module_path()))


def run_app(host, script, *args):
    cmd, env = command(host)
    try:
        r = subprocess.run(cmd + [script] + [str(a) for a in args], cwd=APPS,
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        pytest.fail("%s still running after %d s; its output:\n%s"
                    % (script, RUN_TIMEOUT, out))
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, "%s exited with %d:\n%s" % (script, r.returncode, out)
    return out.splitlines()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the MQTT broker -------------------------------------------------------

def mosquitto_program():
    for d in ("/usr/sbin", "/usr/local/sbin"):
        p = os.path.join(d, "mosquitto")
        if os.access(p, os.X_OK):
            return p
    return shutil.which("mosquitto")


def start_mosquitto(prog, workdir, port, tls=None):
    """mosquitto on port; tls: (certfile, keyfile) for a TLS listener."""
    conf = os.path.join(workdir, "mosquitto-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\n"
                "persistence false\n" % port)
        if tls:
            f.write("certfile %s\nkeyfile %s\n" % tls)
        if os.geteuid() == 0:
            # As root it would drop to the mosquitto user, which cannot
            # read the certificate in pytest's private temporary folder.
            f.write("user root\n")
    log = open(os.path.join(workdir, "mosquitto-%d.log" % port), "wb")
    proc = subprocess.Popen([prog, "-c", conf], stdout=log,
                            stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.05)
    stop(proc)
    return None


def make_cert(workdir):
    """A self-signed certificate for localhost and 127.0.0.1 (its own CA)."""
    cert, key = os.path.join(workdir, "broker.pem"), os.path.join(workdir, "broker.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-keyout", key,
                    "-out", cert, "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def start_broker(tmp_path_factory, tls):
    """(port, process) of a mosquitto broker on 127.0.0.1."""
    prog = mosquitto_program()
    if prog is None:
        pytest.skip("mosquitto is not installed (scripts/deps.sh test installs it)")
    workdir = str(tmp_path_factory.mktemp("mosquitto"))
    files = make_cert(workdir) if tls else None
    # The port is free when picked but another program may take it before
    # mosquitto binds: then it exits, and another port is tried.
    for _ in range(5):
        port = free_port()
        proc = start_mosquitto(prog, workdir, port, files)
        if proc is not None:
            break
    else:
        logs = [open(os.path.join(workdir, f)).read() for f in os.listdir(workdir)
                if f.endswith(".log")]
        pytest.fail("mosquitto did not start:\n" + "\n".join(logs))
    return port, proc, files


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """The port of a mosquitto broker on 127.0.0.1, stopped at the end."""
    port, proc, _ = start_broker(tmp_path_factory, False)
    yield port
    stop(proc)


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory):
    """(port, CA file) of a mosquitto broker with a TLS listener."""
    port, proc, (cert, _) = start_broker(tmp_path_factory, True)
    yield port, cert
    stop(proc)


MQTT_LINES = [
    "connect: session present 0",
    "subscribe: granted QoS 1",
    "check_msg with nothing sent: None",
    "publish QoS 1: PUBACK for packet 2",
    "pings answered: 1",
    "received: /q0 QoS 0 b'hello at QoS 0'",
    "received: /q1 QoS 1 b'hello at QoS 1'",
    "received: /big QoS 0 20000 bytes",
    "PASS mqtt: 3 messages came back byte-exact, in order",
]


@pytest.mark.parametrize("host", ["micropython", "cpython"])
def test_mqtt_client_round_trips_messages_through_mosquitto(host, broker):
    lines = run_app(host, "mqtt_selftest.py", "127.0.0.1", broker, host)
    assert lines == MQTT_LINES, "\n".join(lines)


@pytest.mark.parametrize("host", ["micropython", "cpython"])
def test_mqtt_client_over_tls_through_mosquittos_tls_listener(host, tls_broker):
    """The same program with an SSLContext (umqtt's ssl=): under CPython
    the runner's ssl is ussl, under MicroPython the port's ssl module
    wraps our socket. The broker's certificate is verified."""
    port, ca = tls_broker
    lines = run_app(host, "mqtt_selftest.py", "127.0.0.1", port, host + "-tls", ca,
                    "localhost")
    assert lines == MQTT_LINES, "\n".join(lines)


def test_mqtt_client_over_tls_refuses_a_broker_it_cannot_verify(tls_broker, tmp_path):
    """Verified for real: with another CA the connect fails, naming why."""
    port, _ = tls_broker
    other, _ = make_cert(str(tmp_path))
    cmd, env = command("cpython")
    r = subprocess.run(cmd + ["mqtt_selftest.py", "127.0.0.1", str(port), "bad", other,
                              "localhost"], cwd=APPS, env=env, capture_output=True,
                       text=True, timeout=RUN_TIMEOUT)
    assert r.returncode != 0
    assert "certificate" in r.stderr and "PASS" not in r.stdout, r.stderr


# ---- the HTTP server -------------------------------------------------------

def pattern(n):
    """The bytes the server sends, as http_selftest.py makes them again."""
    return bytes((i * 13 + i // 256) & 0xFF for i in range(n))


FIXED = pattern(50000)
CHUNKS = [1, 100, 4096, 7, 30000]
CHUNKED = pattern(sum(CHUNKS))
EOF_BODY = b"until EOF\n" * 300
NOT_FOUND = b"no such page\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def fixed(self, status, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/fixed":
            self.fixed(200, FIXED)
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Checked")
            self.end_headers()
            at = 0
            for i, n in enumerate(CHUNKS):
                ext = ";note=%d" % i if i % 2 else ""
                self.wfile.write(b"%x%s\r\n" % (n, ext.encode()))
                self.wfile.write(CHUNKED[at:at + n] + b"\r\n")
                self.wfile.flush()  # each chunk its own segments
                at += n
            self.wfile.write(b"0\r\nX-Checked: yes\r\n\r\n")
        elif self.path == "/eof":
            # No framing: the body is whatever comes before the close.
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(EOF_BODY)
            self.close_connection = True
        elif self.path == "/redirect":
            self.fixed(302, b"", [("Location", "/fixed")])
        else:
            self.fixed(404, NOT_FOUND)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.fixed(200, body, [("X-Received-Length", str(len(body)))])


@pytest.fixture(scope="module")
def http_port():
    """The port of a CPython http.server on 127.0.0.1, in a thread."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()
    t.join(10)


def summary(label, status, reason, body):
    return "%s: %d %s, %d bytes, adler32 %08x" % (
        label, status, reason, len(body), zlib.adler32(body))


ECHOED = ("h\u00e9llo w\u00f6rld \u2713 " * 200).encode("utf-8")
HTTP_LINES = [
    summary("GET /fixed", 200, "OK", FIXED),
    summary("GET /chunked", 200, "OK", CHUNKED),
    "  transfer-encoding: chunked",
    summary("GET /eof", 200, "OK", EOF_BODY),
    summary("POST /echo", 200, "OK", ECHOED),
    "  server counted: %d" % len(ECHOED),
    summary("GET /redirect", 200, "OK", FIXED),
    summary("GET /missing", 404, "Not Found", NOT_FOUND),
    "PASS http: 6 requests, every body byte-exact",
]


@pytest.mark.parametrize("host", ["micropython", "cpython"])
def test_http_client_bodies_are_byte_exact_against_http_server(host, http_port):
    lines = run_app(host, "http_selftest.py", "127.0.0.1", http_port)
    assert lines == HTTP_LINES, "\n".join(lines)
