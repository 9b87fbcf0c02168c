"""ussl_util.py: certificates and TLS peers for the ussl tests, loopback
only. The certificates are made by `openssl req` in a scratch folder: a
CA, and what it signed: srv (localhost and 127.0.0.1), expired (the same
names, out of date) and wrong (other.example). Every peer stops by itself
(a thread's sockets time out; a process is ended by its PID)."""
import os
import socket
import ssl
import subprocess
import threading
import time

MAKE = r"""
set -e
K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'
openssl req -x509 $K -keyout ca.key -out ca.pem -days 30 -subj /CN=usocket-test-ca
mk() {
  openssl req $K -keyout $1.key -out $1.csr -subj /CN=$2
  printf 'subjectAltName=%s\n' $3 >$1.ext
  openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out $1.pem -days $4 -extfile $1.ext
}
mk srv localhost DNS:localhost,IP:127.0.0.1 30
mk expired localhost DNS:localhost,IP:127.0.0.1 -1
mk wrong other.example DNS:other.example 30
openssl x509 -in srv.pem -outform DER -out srv.der
"""


class Pki:
    def __init__(self, folder):
        self.dir = str(folder)
        subprocess.run(["sh", "-c", MAKE], cwd=self.dir, check=True, capture_output=True,
                       timeout=60)

    def path(self, name):
        return os.path.join(self.dir, name)

    def data(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, limit=10.0):
    """Waits (bounded) until something listens on port."""
    end = time.monotonic() + limit
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.02)


class Thread(threading.Thread):
    """A peer in a thread: its result, or the exception it met."""

    def __init__(self, fn, *args):
        super().__init__(daemon=True)
        self.fn, self.args, self.result, self.error = fn, args, None, None

    def run(self):
        try:
            self.result = self.fn(*self.args)
        except BaseException as e:  # reported by outcome()
            self.error = e

    def outcome(self, timeout=15):
        self.join(timeout)
        assert not self.is_alive(), "peer thread still running"
        if self.error:
            raise self.error
        return self.result


def cpython_listener():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    ls.settimeout(10)
    return ls, ls.getsockname()[1]


def cpython_server(pki, cert, handler):
    """A CPython ssl server for one connection, in a thread: handler(tls).
    Returns (thread, port)."""
    ls, port = cpython_listener()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.path(cert + ".pem"), pki.path(cert + ".key"))

    def body():
        with ls:
            c, _ = ls.accept()
            c.settimeout(10)
            try:
                with ctx.wrap_socket(c, server_side=True) as t:
                    return handler(t)
            except (ssl.SSLError, OSError) as e:
                return e
            finally:
                c.close()

    t = Thread(body)
    t.start()
    return t, port


def tool_env():
    """The environment for openssl and curl: without the sanitizers'
    runtime that an ASan run preloads for Python (a tool of its own under
    it may hang)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


def spawn(argv, **kw):
    return subprocess.Popen(argv, env=tool_env(), stdin=kw.pop("stdin", subprocess.DEVNULL),
                            stdout=kw.pop("stdout", subprocess.DEVNULL),
                            stderr=subprocess.DEVNULL, **kw)


def stop(proc):
    if proc.poll() is None:
        os.kill(proc.pid, 15)
    proc.wait(10)
