# workloads.py: what `make bench` measures: each workload, the variants
# that do its work side by side, the ratios it reports, and its sizes
# (full, or BENCH_QUICK for a smoke check).
import json
import os

from impls import ECHO_KINDS
from procs import Proc, free_port, run_one, run_pair, RunError

POLL_SCALING = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "poll_scaling.py")

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
MESSAGE = 64
BULK_CHUNK = 64 * KIB
MAKEFILE_BUFFER = 8192  # CPython's io.DEFAULT_BUFFER_SIZE, for fairness
# MicroPython's built-in readline costs one system call per byte: it gets
# this fraction of the lines (figures are per line, so they still compare).
MP_BUILTIN_LINES = 1 / 20

SIZES = {
    # name: (full, quick)
    "pingpong": (50_000, 3_000),
    "bulk": (1 * GIB, 64 * MIB),
    "lines": (1_000_000, 50_000),
    "getaddrinfo": (100_000, 10_000),
    "accept": (5_000, 500),
    "poll_calls": (1_000_000, 20_000),
    "poll_scaling": ((20_000, 5), (2_000, 2)),  # --calls, --rounds
    "sockets": (10_000, 10_000),  # the goal is about 10,000 sockets
    # round trips per run of the echo server: (1 connection, more)
    "echo": ((20_000, 200_000), (2_000, 5_000)),
    "tls_handshakes": (2_000, 100),
    "tls_bulk": (256 * MIB, 16 * MIB),
    "tls_pingpong": (50_000, 3_000),
    "tls_lines": (1_000_000, 50_000),
    "tls_sessions": (500, 50),
}
# The TLS workloads' variants (impls keys "tls-" + these), and the peer's
# mode for each workload.
TLS_VARIANTS = ["plain", "capi", "capi-mbedtls", "cpython", "usocket"]
TLS_PEER_MODE = {"tls-pingpong": "echo", "tls-readline": "lines",
                 "tls-bulk": "bulk", "tls-handshake": "handshakes",
                 "tls-memory-rss": "hold", "tls-memory-heap": "hold"}
# The echo server's concurrent connections, and the servers in the order a
# repetition runs them: impls.ECHO_KINDS's, then the usocket one under
# MicroPython.
ECHO_CONNS = (1, 100, 1000)
ECHO_SERVERS = [kind for kind, _ in ECHO_KINDS] + ["mp-usocket"]
# An echo run settles into a faster or a slower pace and keeps it, so its
# repetitions scatter more than other workloads' do: they run this many
# times the repetitions asked for.
ECHO_REPS = 2


class Variant:
    def __init__(self, key, label, impl, run, missing=None):
        self.key = key
        self.label = label
        self.impl = impl
        # () -> the value of one repetition, or (value, {extra facts})
        self.run = run
        self.missing = missing or impl.missing


class Workload:
    def __init__(self, key, title, unit, scale, higher_better, variants,
                 ratios, reps=1):
        self.key = key
        self.title = title
        self.unit = unit  # as displayed, after dividing by scale
        self.scale = scale
        self.higher_better = higher_better
        self.variants = variants
        self.ratios = ratios  # (numerator key, denominator key)
        self.reps = reps  # times the run's repetitions


def _rate(out, expect=None):
    if expect is not None and out.count != expect:
        raise RunError("moved %d, expected %d" % (out.count, expect))
    return out.count / out.seconds


def lines_for(impl, n):
    return max(1, int(n * MP_BUILTIN_LINES)) if impl.key == "mp-builtin" \
        else n


def job(impls, impl, workload, n):
    """The processes of one run of `workload` moving n items under impl:
    (peer command or None, client command as a function of the port, or
    the command itself when there is no peer). Shared by the timed runs
    and the instruction and system-call counts."""
    peer = impls["peer"]
    if workload == "pingpong":
        return peer.cmd("echo", MESSAGE), \
            lambda port: impl.cmd("pingpong", port, n, MESSAGE)
    if workload in ("readline", "makefile-readline"):
        if workload == "readline":
            args = ("readline",)
        elif impl.key == "plain":
            args = ("buffered-readline",)
        else:
            args = ("makefile-readline",)
        extra = () if workload == "readline" else (MAKEFILE_BUFFER,)
        return peer.cmd("lines", n), \
            lambda port: impl.cmd(args[0], port, n, *extra)
    if workload in TLS_PEER_MODE:
        mode = TLS_PEER_MODE[workload]
        # The memory client opens one session more first (its set-up).
        peer_n = {"echo": MESSAGE, "hold": n + 1}.get(mode, n)
        peer_cmd = impls["tls-peer"].cmd(mode, peer_n)
        args = {"tls-pingpong": ("pingpong", n, MESSAGE),
                "tls-readline": ("readline", n),
                "tls-bulk": ("bulk-read", n, BULK_CHUNK),
                "tls-handshake": ("handshakes", n),
                "tls-memory-rss": ("memory-rss", n),
                "tls-memory-heap": ("memory-heap", n)}[workload]
        return peer_cmd, lambda port: impl.cmd(args[0], port, *args[1:])
    return None, impl.cmd(workload, n)


def echo_job(impls, impl, conns, n):
    """The echo server under impl (the measured process) and the load
    generator as a function of the server's port: n round trips in all,
    over conns connections."""
    return impl.cmd(conns, MESSAGE), \
        lambda port: impls["load"].cmd(port, conns, MESSAGE, n)


def echo_rounds(sizes, conns):
    return sizes["echo"][0 if conns == 1 else 1]


def build(impls, quick, uselect_missing):
    size = {k: v[1] if quick else v[0] for k, v in SIZES.items()}
    peer = impls["peer"]

    def paired(impl, workload, n):
        peer_cmd, client = job(impls, impl, workload, n)
        return lambda: _rate(run_pair(peer_cmd, peer.env, client, impl.env,
                                      "client"), n)

    def pingpong(impl):
        return paired(impl, "pingpong", size["pingpong"])

    def bulk(impl):
        total = size["bulk"]

        def once():
            if impl.c_program:
                server = impl.cmd("bulk-read", total, BULK_CHUNK)
            else:
                server = impl.cmd("bulk-read", free_port(), total,
                                  BULK_CHUNK)
            return _rate(run_pair(
                server, impl.env,
                lambda port: impl.cmd("bulk-write", port, total, BULK_CHUNK),
                impl.env, "server"), total)
        return once

    def lines(impl, workload):
        return paired(impl, workload, lines_for(impl, size["lines"]))

    def single(impl, workload, n):
        return lambda: _rate(run_one(job(impls, impl, workload, n)[1],
                                     impl.env), n)

    def poll(impl, idle):
        def once():
            out = run_one(impl.cmd("poll", idle, size["poll_calls"]),
                          impl.env)
            return out.seconds / out.count
        return once

    # uselect's rows come from bench/poll_scaling.py, which measures both
    # sizes in one process: whichever of the two variants runs first in a
    # repetition runs it, and leaves the other its figure.
    scaling_left = {}

    def poll_scaling(impl, idle):
        def once():
            key = "big" if idle > 10 else "small"
            if key in scaling_left:
                return scaling_left.pop(key)
            calls, rounds = size["poll_scaling"]
            p = Proc([impl.prefix[0], POLL_SCALING, "--json", "--calls",
                      calls, "--rounds", rounds], impl.env)
            try:
                p.wait()
            finally:
                p.close()
            try:
                out = json.loads(p.lines[-1])
            except (IndexError, ValueError):
                raise RunError("poll_scaling.py printed no JSON") from None
            scaling_left.clear()
            other = "small" if key == "big" else "big"
            scaling_left[other] = out[other + "_ns_per_poll"] * 1e-9
            return out[key + "_ns_per_poll"] * 1e-9, {
                "backend": out.get("backend")}
        return once

    def memory(impl, how):
        def once():
            out = run_one(impl.cmd("memory-" + how, size["sockets"]),
                          impl.env)
            return out.metrics["bytes"], {
                "getsizeof": out.metrics.get("getsizeof")}
        return once

    def echo(impl, conns):
        n = echo_rounds(size, conns)

        def once():
            server, load = echo_job(impls, impl, conns, n)
            out = run_pair(server, impl.env, load, impls["load"].env,
                           "client")
            # The server's CPU time per round trip, start-up included.
            user, system = out.server_cpu
            return _rate(out, n), {"user_us": user / n * 1e6,
                                   "sys_us": system / n * 1e6}
        return once

    def each(keys, make):
        return [Variant(k, impls[k].label, impls[k], make(impls[k]))
                for k in keys]

    everyone = ["plain", "capi", "cpython", "usocket", "mp-builtin",
                "mp-usocket"]
    mp = ("mp-usocket", "mp-builtin")
    work = [
        Workload("pingpong", "ping-pong, 64-byte messages (write + readinto)",
                 "k round trips/s", 1e3, True, each(everyone, pingpong),
                 [("usocket", "plain"), ("capi", "plain"),
                  ("cpython", "plain"), ("usocket", "cpython"), mp]),
        Workload("bulk", "bulk: %d MiB write -> readinto, %d KiB at a time"
                 % (size["bulk"] // MIB, BULK_CHUNK // KIB),
                 "GiB/s", GIB, True, each(everyone, bulk),
                 [("usocket", "plain"), ("usocket", "cpython"),
                  ("capi", "plain"), ("cpython", "plain"), mp]),
        Workload("readline", "socket readline, %d lines of 40 bytes"
                 % size["lines"], "M lines/s", 1e6, True,
                 each(["plain", "capi", "usocket", "mp-builtin",
                       "mp-usocket"], lambda i: lines(i, "readline")),
                 [("usocket", "plain"), ("capi", "plain"), mp,
                  ("usocket", "mp-builtin")]),
        Workload("makefile-readline",
                 "makefile('rb', buffering).readline, %d lines of 40 bytes"
                 % size["lines"], "M lines/s", 1e6, True,
                 each(["plain", "cpython", "usocket", "mp-builtin",
                       "mp-usocket"],
                      lambda i: lines(i, "makefile-readline")),
                 [("usocket", "cpython"), ("usocket", "plain"),
                  ("cpython", "plain"), mp]),
        Workload("getaddrinfo", "getaddrinfo('127.0.0.1', 80)", "k calls/s",
                 1e3, True,
                 each(["plain", "capi", "cpython", "usocket"],
                      lambda i: single(i, "getaddrinfo",
                                       size["getaddrinfo"])),
                 [("usocket", "cpython"), ("capi", "plain"),
                  ("usocket", "capi")]),
        Workload("accept", "connect + accept + close cycles", "k cycles/s",
                 1e3, True,
                 each(["plain", "capi", "cpython", "usocket"],
                      lambda i: single(i, "accept", size["accept"])),
                 [("usocket", "cpython"), ("capi", "plain"),
                  ("usocket", "plain")]),
    ]
    polls = []
    for impl, name in ((impls["usocket"], "uselect.poll"),
                       (impls["cpython"], "CPython select.poll")):
        for idle in (10, 10_000):
            # poll_scaling.py counts the ready socket among the registered
            # ones; client.py adds it to the idle ones: 10 vs 11 is noise.
            run = poll_scaling(impl, idle) if impl.key == "usocket" else \
                poll(impl, idle)
            v = Variant("%s-%d" % (impl.key, idle),
                        "%s, %d registered, 1 ready" % (name, idle), impl,
                        run)
            if impl.key == "usocket" and not v.missing and uselect_missing:
                v.missing = uselect_missing
            polls.append(v)
    work.append(Workload(
        "poll", "poll(0): cost with 10,000 idle + 1 ready vs 10 + 1",
        "us per call", 1e-6, False, polls,
        [("usocket-10000", "usocket-10"), ("cpython-10000", "cpython-10"),
         ("usocket-10000", "cpython-10000")]))
    mems = []
    for how, what in (("trace", "tracemalloc"), ("rss", "RSS")):
        for impl in (impls["cpython"], impls["usocket"]):
            mems.append(Variant("%s-%s" % (impl.key, how),
                                "%s, %s" % (impl.label, what), impl,
                                memory(impl, how)))
    work.append(Workload(
        "memory", "memory per idle socket object (%d sockets)"
        % size["sockets"], "bytes", 1, False, mems,
        [("usocket-trace", "cpython-trace"), ("usocket-rss", "cpython-rss")]))
    work += _tls_workloads(impls, size, paired)
    # One workload per number of connections: a repetition then rotates
    # the servers, so the two of a ratio run at most seconds apart.
    for conns in ECHO_CONNS:
        echoes = []
        for kind in ECHO_SERVERS:
            impl = impls["echo-" + kind]
            v = Variant(kind, "%s, %d connection%s" % (
                impl.label, conns, "s" if conns > 1 else ""), impl,
                echo(impl, conns))
            v.missing = v.missing or impls["load"].missing
            echoes.append(v)
        work.append(Workload(
            "echo-%d" % conns, "echo server, %d connection%s, one %d-byte "
            "message in flight on each" % (conns, "s" if conns > 1 else "",
                                           MESSAGE),
            "k round trips/s", 1e3, True, echoes,
            [("usocket", other) for other in ("uvloop", "c", "selectors",
                                              "asyncio")] +
            [("mp-usocket", "c")], reps=ECHO_REPS))
    return work


def _tls_workloads(impls, size, paired):
    """TLS 1.3 with AES-128-GCM on loopback, every client against the
    plain-OpenSSL peer."""
    def variants(workload, n, keys=TLS_VARIANTS, make=paired):
        out = []
        for key in keys:
            impl = impls["tls-" + key]
            v = Variant(key, impl.label, impl, make(impl, workload, n))
            v.missing = v.missing or impls["tls-peer"].missing
            out.append(v)
        return out

    def memory(impl, workload, n):
        peer_cmd, client = job(impls, impl, workload, n)
        env = dict(impl.env or os.environ, PYTHONMALLOC="malloc")

        def once():
            out = run_pair(peer_cmd, impls["tls-peer"].env, client, env,
                           "client")
            return out.metrics["bytes"]
        return once

    ratios = [("usocket", "plain"), ("capi", "plain"),
              ("capi-mbedtls", "plain"), ("cpython", "plain"),
              ("usocket", "cpython")]
    return [
        Workload("tls-handshake", "TLS handshakes: connect, full handshake "
                 "(certificate verified), close", "handshakes/s", 1, True,
                 variants("tls-handshake", size["tls_handshakes"]), ratios),
        Workload("tls-bulk", "TLS bulk: %d MiB from the peer, read %d KiB "
                 "at a time" % (size["tls_bulk"] // MIB, BULK_CHUNK // KIB),
                 "GiB/s", GIB, True,
                 variants("tls-bulk", size["tls_bulk"]), ratios),
        Workload("tls-pingpong", "TLS ping-pong, 64-byte messages",
                 "k round trips/s", 1e3, True,
                 variants("tls-pingpong", size["tls_pingpong"]), ratios),
        Workload("tls-readline", "TLS readline, %d lines of 40 bytes"
                 % size["tls_lines"], "M lines/s", 1e6, True,
                 variants("tls-readline", size["tls_lines"],
                          TLS_VARIANTS + ["floor"]),
                 ratios + [("floor", "plain")]),
        Workload("tls-memory", "memory per idle TLS session, %d open: "
                 "malloc's heap in use (OpenSSL's and Python's) and RSS"
                 % size["tls_sessions"], "bytes", 1, False,
                 [Variant("%s-%s" % (key, how), "%s, %s" % (
                     impls["tls-" + key].label, what), impls["tls-" + key],
                     memory(impls["tls-" + key], "tls-memory-" + how,
                            size["tls_sessions"]),
                     impls["tls-" + key].missing or
                     impls["tls-peer"].missing)
                  for how, what in (("heap", "heap"), ("rss", "RSS"))
                  for key in ("cpython", "usocket")],
                 [("usocket-heap", "cpython-heap"),
                  ("usocket-rss", "cpython-rss")]),
    ]
