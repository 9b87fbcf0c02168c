"""test_bench_tls.py: the TLS workloads of `make bench` do their work:
every client (plain OpenSSL, the C API, CPython's ssl, ussl when built)
completes each workload against bench_tls_peer with a verified
certificate and reports exactly the count it was asked for, and a wrong
CA fails the run. (Speed is bench/run.py's business, never a test's.)"""
import os
import select
import subprocess
import sys

import pytest
import usocket

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENT = os.path.join(REPO, "bench", "tls_client.py")
PYDIR = os.path.dirname(os.path.abspath(usocket.__path__[0]))
BENCH = os.path.join(os.path.dirname(PYDIR), "bench")
PEER = os.path.join(BENCH, "bench_tls_peer")
TIMEOUT = 60  # generous: the machine may be busy

pytestmark = pytest.mark.skipif(not os.access(PEER, os.X_OK),
                                reason="the TLS benchmarks are not built")


def make_cert(d, name):
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-keyout", key, "-out", cert, "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=TIMEOUT)
    return cert, key


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("tls-bench"))
    return make_cert(d, "server"), make_cert(d, "other")[0]


def clients():
    out = [("plain", [os.path.join(BENCH, "bench_tls_plain")]),
           ("capi", [os.path.join(BENCH, "bench_tls_capi")]),
           ("ssl", [sys.executable, CLIENT, "ssl"])]
    if os.path.exists(os.path.join(PYDIR, "ussl.py")):
        out.append(("ussl", [sys.executable, CLIENT, "ussl"]))
    return out


def run(peer_args, client_cmd, client_args, cert, key, ca):
    env = dict(os.environ, PYTHONPATH=PYDIR)
    peer = subprocess.Popen([PEER, cert, key] + peer_args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([peer.stdout], [], [], TIMEOUT)
        line = peer.stdout.readline() if ready else ""
        assert line.startswith("port "), (line, peer.stderr.read())
        port = line.split()[1]
        args = [a.replace("PORT", port) for a in client_args]
        c = subprocess.run(client_cmd + [ca] + args, capture_output=True,
                           text=True, timeout=TIMEOUT, env=env)
        peer.wait(timeout=TIMEOUT)
        return c
    finally:
        if peer.poll() is None:
            peer.kill()  # this very child, by its PID
            peer.wait()
        peer.stdout.close()
        peer.stderr.close()


WORK = [
    (["echo", "64"], ["pingpong", "PORT", "200", "64"], 200),
    (["lines", "5000"], ["readline", "PORT", "5000"], 5000),
    (["bulk", "3000000"], ["bulk-read", "PORT", "3000000", "65536"], 3000000),
    (["handshakes", "5"], ["handshakes", "PORT", "5"], 5),
]


@pytest.mark.parametrize("name,cmd", clients(), ids=[c[0] for c in clients()])
@pytest.mark.parametrize("peer_args,args,count", WORK, ids=[w[1][0] for w in WORK])
def test_each_client_does_each_workload(certs, name, cmd, peer_args, args, count):
    (cert, key), _ = certs
    c = run(peer_args, cmd, args, cert, key, cert)
    assert c.returncode == 0, c.stderr
    words = c.stdout.split()
    assert words[0] == "result" and int(words[2]) == count, c.stdout


@pytest.mark.parametrize("name,cmd", clients(), ids=[c[0] for c in clients()])
def test_a_client_that_trusts_another_ca_fails(certs, name, cmd):
    (cert, key), other = certs
    c = run(["handshakes", "1"], cmd, ["handshakes", "PORT", "1"], cert, key, other)
    assert c.returncode != 0
    assert "result" not in c.stdout


@pytest.mark.parametrize("name,cmd", [c for c in clients() if c[0] in ("ssl", "ussl")],
                         ids=[c[0] for c in clients() if c[0] in ("ssl", "ussl")])
def test_memory_reports_bytes_per_session(certs, name, cmd):
    (cert, key), _ = certs
    # Under ASan's allocator (make test-asan preloads it) malloc's own
    # statistics are all zero: only RSS means something there.
    asan = "asan" in os.environ.get("LD_PRELOAD", "")
    for how in ("rss",) if asan else ("rss", "heap"):
        c = run(["hold", "21"], cmd, ["memory-" + how, "PORT", "20"], cert, key, cert)
        assert c.returncode == 0, c.stderr
        metric = [ln.split() for ln in c.stdout.splitlines()
                  if ln.startswith("metric bytes")]
        # A session holds kilobytes (keys, certificate, buffers) and a
        # heap figure counts them all: more than 1 KiB, less than 1 MiB.
        assert metric and 1024 < float(metric[0][2]) < (1 << 20) or how == "rss", c.stdout


@pytest.mark.skipif(not os.path.exists(os.path.join(PYDIR, "ussl.py")),
                    reason="ussl is not built")
def test_readline_bound_takes_every_line_and_counts_them(certs):
    """The bound row of the readline workload reads all the peer's bytes
    (fewer is an error) and reports the count it was asked for."""
    (cert, key), _ = certs
    cmd = [sys.executable, CLIENT, "floor"]
    c = run(["lines", "5000"], cmd, ["readline", "PORT", "5000"], cert, key, cert)
    assert c.returncode == 0, c.stderr
    words = c.stdout.split()
    assert words[0] == "result" and int(words[2]) == 5000 and float(words[1]) > 0
    c = run(["lines", "4000"], cmd, ["readline", "PORT", "5000"], cert, key, cert)
    assert c.returncode != 0 and "fewer lines" in c.stderr
    assert "result" not in c.stdout
