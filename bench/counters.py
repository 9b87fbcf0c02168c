# counters.py: what a clock cannot show on a noisy machine: user-space
# instructions per operation (valgrind --tool=callgrind; the kernel's work
# is not counted) and system calls per operation (strace -c -f, with the
# per-call breakdown; perf's raw_syscalls tracepoint as a full-speed
# cross-check where perf works). Each figure is a difference of two runs,
# n1 and n2 items, divided by n2 - n1: start-up and set-up cancel out.
import concurrent.futures
import os
import re
import shutil
import subprocess

from procs import RunError, run_one, run_pair
from workloads import echo_job, job, lines_for

# The echo servers are counted with this many connections: enough that a
# wait returns many ready ones, as a busy server's does.
ECHO_COUNT_CONNS = 100

# (workload, per what, variants, callgrind (n1, n2), syscalls (n1, n2)),
# full and quick sizes; None: not counted that way.
SPECS = [
    ("pingpong", "round trip",
     ["plain", "capi", "cpython", "usocket", "mp-builtin", "mp-usocket"],
     ((1000, 5000), (200, 1000)), ((1000, 5000), (200, 1000))),
    ("readline", "line",
     ["plain", "capi", "usocket", "mp-builtin", "mp-usocket"],
     ((2000, 10000), (500, 2500)), ((2000, 20000), (500, 5000))),
    ("makefile-readline", "line",
     ["plain", "cpython", "usocket", "mp-builtin", "mp-usocket"],
     ((5000, 50000), (2000, 10000)), ((5000, 100000), (2000, 20000))),
    ("getaddrinfo", "call", ["plain", "capi", "cpython", "usocket"],
     ((1000, 11000), (200, 2200)), None),
    ("accept", "cycle", ["plain", "capi", "cpython", "usocket"],
     ((200, 1200), (50, 250)), ((200, 1200), (50, 250))),
    ("tls-pingpong", "round trip",
     ["tls-plain", "tls-capi", "tls-cpython", "tls-usocket"],
     ((1000, 5000), (200, 1000)), None),
    ("tls-readline", "line",
     ["tls-plain", "tls-capi", "tls-cpython", "tls-usocket"],
     ((20000, 100000), (5000, 25000)), None),
    # The measured process is the server (impls "echo-KEY"), started under
    # the counter; the load generator runs n round trips at full speed.
    ("echo", "round trip", ["usocket", "selectors", "asyncio", "uvloop",
                            "c", "mp-usocket"],
     ((2000, 12000), (500, 2500)), ((2000, 12000), (500, 2500))),
]

_ANNOTATE_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S.*)$")


def _run(impls, impl, workload, n, wrap):
    """One run with the measured process (never the peer) under wrap."""
    if workload == "echo":
        server, load = echo_job(impls, impl, ECHO_COUNT_CONNS, n)
        return run_pair(wrap(server), impl.env, load, impls["load"].env,
                        "client")
    peer_cmd, client = job(impls, impl, workload, n)
    if peer_cmd is None:
        return run_one(wrap(client), impl.env)
    return run_pair(peer_cmd, impls["peer"].env,
                    lambda port: wrap(client(port)), impl.env, "client")


def _callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    raise RunError("%s: no totals line" % path)


def _per_function(path):
    """Instructions by function (self cost) from callgrind_annotate."""
    out = subprocess.run(["callgrind_annotate", "--auto=no",
                          "--threshold=100", path],
                         capture_output=True, text=True, timeout=120).stdout
    costs = {}
    for line in out.splitlines():
        m = _ANNOTATE_LINE.match(line)
        if m and "PROGRAM TOTALS" not in m.group(2):
            # "file:function [object]" -> "function [object's base name]"
            where, _, obj = m.group(2).partition(" [")
            fn = where.split(":", 1)[-1]
            name = "%s [%s]" % (fn, os.path.basename(obj.rstrip("]")))
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(",",
                                                                     ""))
    return costs


def callgrind(impls, impl, workload, n1, n2, outdir):
    files = []
    for n in (n1, n2):
        path = os.path.join(outdir, "callgrind.%s.%s.%d" %
                            (workload, impl.key, n))
        wrap = lambda cmd, path=path: [
            "valgrind", "--tool=callgrind", "--callgrind-out-file=" + path,
            "--trace-children=no"] + cmd
        _run(impls, impl, workload, n, wrap)
        files.append(path)
    per_op = (_callgrind_total(files[1]) -
              _callgrind_total(files[0])) / (n2 - n1)
    f1, f2 = _per_function(files[0]), _per_function(files[1])
    top = sorted(((f2.get(k, 0) - f1.get(k, 0)) / (n2 - n1), k)
                 for k in set(f1) | set(f2))
    top = [(name, round(cost, 1)) for cost, name in reversed(top)
           if cost > 0.5][:25]
    return {"per_op": round(per_op, 1), "functions": top,
            "files": [os.path.relpath(f, outdir) for f in files]}


def _strace_counts(path):
    counts = {}
    with open(path) as f:
        for line in f:
            words = line.split()
            if len(words) >= 5 and words[0][0].isdigit():
                # % time, seconds, usecs/call, calls, [errors,] syscall
                counts[words[-1]] = int(words[3])
    return counts


def _perf_count(path):
    with open(path) as f:
        for line in f:
            fields = line.strip().split(",")
            if len(fields) > 2 and fields[2].startswith("raw_syscalls"):
                return int(fields[0])
    raise RunError("%s: no raw_syscalls count" % path)


def syscalls(impls, impl, workload, n1, n2, outdir, use_perf):
    counts = []
    for n in (n1, n2):
        path = os.path.join(outdir, "strace.%s.%s.%d" %
                            (workload, impl.key, n))
        _run(impls, impl, workload, n,
             lambda cmd: ["strace", "-f", "-c", "-o", path] + cmd)
        counts.append(_strace_counts(path))
    per = {k: (counts[1].get(k, 0) - counts[0].get(k, 0)) / (n2 - n1)
           for k in set(counts[0]) | set(counts[1]) if k != "total"}
    result = {
        "per_op": round((counts[1]["total"] - counts[0]["total"]) /
                        (n2 - n1), 3),
        "by_call": {k: round(v, 3) for k, v in sorted(per.items())
                    if abs(v) >= 0.001},
    }
    if use_perf:
        totals = []
        for n in (n1, n2):
            path = os.path.join(outdir, "perf.%s.%s.%d" %
                                (workload, impl.key, n))
            _run(impls, impl, workload, n,
                 lambda cmd: ["perf", "stat", "-x,", "-o", path, "-e",
                              "raw_syscalls:sys_enter", "--"] + cmd)
            totals.append(_perf_count(path))
        result["per_op_full_speed"] = round(
            (totals[1] - totals[0]) / (n2 - n1), 3)
    return result


def perf_works():
    if not shutil.which("perf"):
        return False
    try:
        r = subprocess.run(["perf", "stat", "-x,", "-e",
                            "raw_syscalls:sys_enter", "--", "true"],
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "raw_syscalls" in r.stderr and "not supported" not in r.stderr


def count_all(impls, quick, outdir, log, only=None):
    """Every count of SPECS, as {workload: {"per": ..., "callgrind":
    {variant: {...}}, "syscalls": {variant: {...}}}}. Instruction counts
    do not depend on the clock, so two run at once."""
    os.makedirs(outdir, exist_ok=True)
    have = {"callgrind": shutil.which("valgrind"),
            "syscalls": shutil.which("strace")}
    use_perf = perf_works()
    results, tasks = {}, []
    for workload, per, keys, cg, sc in SPECS:
        if only and workload not in only and not any(
                o.startswith(workload + "-") for o in only):
            continue
        entry = results.setdefault(workload, {"per": per, "callgrind": {},
                                              "syscalls": {}})
        for kind, sizes in (("callgrind", cg), ("syscalls", sc)):
            if sizes is None:
                continue
            n1, n2 = sizes[1] if quick else sizes[0]
            for key in keys:
                impl = impls["echo-" + key if workload == "echo" else key]
                missing = impl.missing or (workload == "echo" and
                                           impls["load"].missing)
                if missing or not have[kind]:
                    entry[kind][key] = {
                        "missing": missing or "%s is not installed" %
                        ("valgrind" if kind == "callgrind" else "strace")}
                    continue
                a, b = lines_for(impl, n1), lines_for(impl, n2)
                if "readline" not in workload:
                    a, b = n1, n2
                tasks.append((kind, workload, key, impl, a, b))

    def one(task):
        kind, workload, key, impl, a, b = task
        try:
            if kind == "callgrind":
                return task, callgrind(impls, impl, workload, a, b, outdir)
            return task, syscalls(impls, impl, workload, a, b, outdir,
                                  use_perf)
        except RunError as e:
            return task, {"error": str(e)}

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        # System-call counts first and one at a time (their perf cross-
        # check runs at full speed); callgrind two at a time after them.
        for task, res in map(one, [t for t in tasks if t[0] == "syscalls"]):
            _record(results, task, res, log)
        for task, res in pool.map(one, [t for t in tasks
                                        if t[0] == "callgrind"]):
            _record(results, task, res, log)
    return results


def _record(results, task, res, log):
    kind, workload, key = task[:3]
    results[workload][kind][key] = res
    what = res.get("error") or "%s per %s" % (res["per_op"],
                                              results[workload]["per"])
    log("  %-9s %-17s %-10s %s" % (kind, workload, key, what))
