# impls.py: the implementations a workload can run under, how to start
# each, and whether it is there at all (a row is skipped, with its reason
# printed, rather than failing the run).
import atexit
import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(BENCH_DIR, "client.py")
ECHO_SERVER = os.path.join(BENCH_DIR, "echo_server.py")
TLS_CLIENT = os.path.join(BENCH_DIR, "tls_client.py")


class Impl:
    """One way of doing the work: a C program, or an interpreter running
    client.py with one socket module."""

    def __init__(self, key, label, prefix, env=None, c_program=False):
        self.key = key
        self.label = label
        self.prefix = list(prefix)
        self.env = env
        self.c_program = c_program
        self.missing = None  # why it cannot run, when it cannot

    def cmd(self, workload, *args):
        return self.prefix + [workload] + [str(a) for a in args]


def _env(build):
    env = dict(os.environ)
    pypath = os.path.join(build, "python")
    env["PYTHONPATH"] = pypath + (os.pathsep + env["PYTHONPATH"]
                                  if env.get("PYTHONPATH") else "")
    return env


# What the probe prints: which module "socket" and "usocket" are in this
# MicroPython. Ours has TCP_NODELAY (docs/python-api.md); the port's own
# module does not, and with MICROPY_PY_SOCKET=0 both names are ours.
_MP_PROBE = """
import sys
for name in ("socket", "usocket"):
    try:
        m = __import__(name)
        print(name, "ours" if hasattr(m, "TCP_NODELAY") else "builtin")
    except ImportError:
        print(name, "none")
"""


def _probe_micropython(binary):
    try:
        out = subprocess.run([binary, "-c", _MP_PROBE], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    kinds = dict(line.split() for line in out.splitlines()
                 if len(line.split()) == 2)
    return kinds, None


def _micropython(binaries, env):
    """The MicroPython rows: the port's built-in module and ours, from
    whichever of the given binaries has each."""
    builtin = ours = None
    notes = []
    for binary in binaries:
        kinds, err = _probe_micropython(binary)
        if kinds is None:
            notes.append("%s: %s" % (binary, err))
            continue
        if not builtin and kinds.get("socket") == "builtin":
            builtin = (binary, "socket")
        for name in ("usocket", "socket"):
            if not ours and kinds.get(name) == "ours":
                ours = (binary, name)
    mp_builtin = Impl("mp-builtin", "MicroPython built-in",
                      [builtin[0], CLIENT, builtin[1]] if builtin else [], env)
    mp_ours = Impl("mp-usocket", "usocket (MicroPython)",
                   [ours[0], CLIENT, ours[1]] if ours else [], env)
    if not binaries:
        reason = "MICROPYTHON is not set"
        mp_builtin.missing = mp_ours.missing = reason
    else:
        given = " ".join(binaries)
        if not builtin:
            mp_builtin.missing = ("no binary in MICROPYTHON (%s) has the "
                                  "port's own socket module" % given)
        if not ours:
            mp_ours.missing = ("no binary in MICROPYTHON (%s) has our "
                               "module" % given)
        for impl in (mp_builtin, mp_ours):
            if impl.missing and notes:
                impl.missing += "; " + "; ".join(notes)
    return mp_builtin, mp_ours


def discover(build, micropython):
    """Every implementation, keyed; each has .missing set if absent.
    `micropython` is a list of binaries (MICROPYTHON may name several)."""
    env = _env(build)
    bench = os.path.join(build, "bench")
    py = sys.executable
    impls = [
        Impl("plain", "plain C", [os.path.join(bench, "bench_plain")], env,
             c_program=True),
        Impl("capi", "C API", [os.path.join(bench, "bench_capi")], env,
             c_program=True),
        Impl("cpython", "CPython socket", [py, CLIENT, "socket"], env),
        Impl("usocket", "usocket (CPython)", [py, CLIENT, "usocket"], env),
    ]
    impls += _micropython(micropython, env)
    for impl in impls[:2]:
        if not os.access(impl.prefix[0], os.X_OK):
            impl.missing = "%s is not built" % impl.prefix[0]
    if not glob.glob(os.path.join(build, "python", "usocket", "__init__*.so")):
        impls[3].missing = "%s/python/usocket/__init__*.so is not built" % build
    out = {i.key: i for i in impls}
    out["peer"] = Impl("peer", "plain-C peer",
                       [os.path.join(bench, "bench_peer")], env, True)
    out["load"] = Impl("load", "plain-C load generator",
                       [os.path.join(bench, "bench_load")], env, True)
    if not os.access(out["load"].prefix[0], os.X_OK):
        out["load"].missing = "%s is not built" % out["load"].prefix[0]
    out.update(_echo_servers(bench, env, impls[3].missing or (
        None if has_uselect(build) else
        "%s/python/uselect*.so is not built" % build)))
    # The same usocket server under MicroPython, with our module.
    out.update(_tls(build, env))
    mp = out["mp-usocket"]
    out["echo-mp-usocket"] = Impl(
        "echo-mp-usocket", "usocket + uselect.poll under MicroPython",
        mp.prefix[:1] + [ECHO_SERVER, "usocket"], env)
    out["echo-mp-usocket"].missing = mp.missing or (
        None if mp.prefix[2:] == ["usocket"] else
        "our module is not named usocket in %s" % mp.prefix[0])
    return out


# The echo servers, keyed "echo-KIND": echo_server.py KIND under CPython,
# and bench_echo, plain C with epoll. A repetition runs them in this order:
# plain C right after usocket, so that the two of the closest ratio nearly
# always run back to back (the machine's speed drifts over minutes, by as
# much as a third).
ECHO_KINDS = [
    ("usocket", "usocket + uselect.poll"),
    ("c", "plain C epoll"),
    ("selectors", "CPython selectors"),
    ("asyncio", "asyncio streams"),
    ("uvloop", "asyncio streams on uvloop"),
]


def _echo_servers(bench, env, usocket_missing):
    out = {}
    for kind, label in ECHO_KINDS:
        if kind == "c":
            impl = Impl("echo-c", label, [os.path.join(bench, "bench_echo")],
                        env, c_program=True)
            if not os.access(impl.prefix[0], os.X_OK):
                impl.missing = "%s is not built" % impl.prefix[0]
        else:
            impl = Impl("echo-" + kind, label,
                        [sys.executable, ECHO_SERVER, kind], env)
        if kind == "usocket":
            impl.missing = usocket_missing
        elif kind == "uvloop" and not importlib.util.find_spec("uvloop"):
            impl.missing = ("uvloop is not installed (scripts/deps.sh bench "
                            "installs python3-uvloop)")
        out[impl.key] = impl
    return out


def has_uselect(build):
    return bool(glob.glob(os.path.join(build, "python", "uselect*.so")))


# ---- TLS ------------------------------------------------------------------

_tls_dir = []


def tls_files():
    """(certificate, key) for "localhost" and 127.0.0.1, made once per run
    with openssl (a P-256 key: every TLS variant does the same crypto);
    the certificate is also the CA every client trusts."""
    if not _tls_dir:
        d = tempfile.mkdtemp(prefix="usocket-bench-tls-")
        atexit.register(shutil.rmtree, d, True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
             "-keyout", os.path.join(d, "key.pem"),
             "-out", os.path.join(d, "cert.pem"), "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True, timeout=60)
        _tls_dir.append(d)
    d = _tls_dir[0]
    return os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")


class _LazyTLS(Impl):
    """An Impl whose command names the run's certificate files, made only
    when a TLS workload first runs."""

    def __init__(self, key, label, prefix, env, c_program, args):
        super().__init__(key, label, prefix, env, c_program)
        self._args = args  # "ca" or "cert+key"

    def cmd(self, workload, *args):
        # Without openssl the variant is missing and never runs: its
        # command is only described.
        files = []
        if shutil.which("openssl"):
            cert, key = tls_files()
            files = [cert] if self._args == "ca" else [cert, key]
        return self.prefix + files + [workload] + [str(a) for a in args]


def _tls(build, env):
    """The TLS variants: the plain-OpenSSL peer and limit client, the C
    API over each engine built (build/, and build-mbedtls/ beside it when
    it exists), and CPython's ssl and ussl clients."""
    bench = os.path.join(build, "bench")
    py = sys.executable
    out = {}

    def add(key, label, prefix, args, c_program=True, program=None):
        impl = _LazyTLS(key, label, prefix, env, c_program, args)
        if program and not os.access(program, os.X_OK):
            impl.missing = "%s is not built" % program
        elif not shutil.which("openssl"):
            impl.missing = "openssl is not installed"
        out[key] = impl
        return impl

    for key, label, name, args in (
            ("tls-peer", "plain-OpenSSL TLS peer", "bench_tls_peer",
             "cert+key"),
            ("tls-plain", "plain C OpenSSL", "bench_tls_plain", "ca"),
            ("tls-capi", "C API (OpenSSL engine)", "bench_tls_capi", "ca")):
        program = os.path.join(bench, name)
        add(key, label, [program], args, program=program)
    mbed = os.path.join(os.path.dirname(os.path.abspath(build)),
                        "build-mbedtls", "bench", "bench_tls_capi")
    add("tls-capi-mbedtls", "C API (mbedTLS engine)", [mbed], "ca",
        program=mbed)
    add("tls-cpython", "CPython ssl", [py, TLS_CLIENT, "ssl"], "ca",
        c_program=False)
    ours = add("tls-usocket", "usocket + ussl (CPython)",
               [py, TLS_CLIENT, "ussl"], "ca", c_program=False)
    floor = add("tls-floor", "bound for any CPython client: CPU time of "
                "the bytes' reads + a loop making the lines", [py, TLS_CLIENT, "floor"], "ca",
                c_program=False)
    # ussl is python/ussl.py over the usocket extension, copied to the
    # build's python/ when the extension has a TLS engine.
    if not os.path.exists(os.path.join(build, "python", "ussl.py")):
        for impl in (ours, floor):
            impl.missing = impl.missing or \
                "%s/python/ussl.py is not built (a build without TLS)" % build
    return out
