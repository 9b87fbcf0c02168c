#!/usr/bin/python3
# run.py: `make bench`: every workload of bench/workloads.py on loopback,
# all implementations side by side in one run, repetitions interleaved;
# then instruction and system-call counts (counters.py); then the tables,
# bench/results/results.json, bench/results/ratios.png and the results
# section of bench/README.md (report.py).
#
# Environment (or the options of the same meaning): BUILD (the CMake build
# with bench/ and python/), BENCH_REPS, BENCH_QUICK=1 for a smoke check,
# MICROPYTHON (one or more binaries, separated by ':' or spaces).
import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time

import counters
import report
from impls import BENCH_DIR, discover, has_uselect
from procs import RunError
from workloads import build

ROOT = os.path.dirname(BENCH_DIR)


def log(text):
    print(text, flush=True)


def options():
    env = os.environ
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", default=env.get("BUILD") or "build")
    p.add_argument("--quick", action="store_true",
                   default=env.get("BENCH_QUICK", "") not in ("", "0"))
    p.add_argument("--reps", type=int, default=int(env.get("BENCH_REPS") or 0)
                   or None)
    p.add_argument("--micropython", default=env.get("MICROPYTHON", ""))
    p.add_argument("--only", default="",
                   help="comma-separated workloads (default: all)")
    p.add_argument("--no-counts", action="store_true",
                   help="skip callgrind and system-call counts")
    p.add_argument("--no-readme", action="store_true",
                   help="leave bench/README.md as it is")
    p.add_argument("--no-times", action="store_true",
                   help="only the counts (for profiling a change)")
    p.add_argument("--results", default=os.path.join(BENCH_DIR, "results"),
                   help="where results.json, ratios.png and the counts go")
    a = p.parse_args()
    a.build = os.path.join(ROOT, a.build) if not os.path.isabs(a.build) \
        else a.build
    a.reps = a.reps or (2 if a.quick else 9)
    a.micropython = [b for b in re.split(r"[:\s]+", a.micropython) if b]
    return a


def readme_kept(a):
    """Why this run leaves the results in bench/README.md as they are, or
    None when it rewrites them: only a full run of every workload, with
    times and counts, does."""
    if a.quick:
        return "a quick run: smoke sizes, not figures to keep"
    if a.no_readme:
        return "--no-readme"
    if a.only:
        return "--only: not every workload"
    if a.no_times:
        return "--no-times: counts only"
    if a.no_counts:
        return "--no-counts: the goals on counts would be missing"
    return None


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def measure(workloads, reps):
    """Each workload in turn; within it, repetition after repetition of
    every variant, the order rotated each time so that no variant always
    runs first (or just after the heaviest one)."""
    raw = {}
    for w in workloads:
        todo = [v for v in w.variants if not v.missing]
        log("%s: %s" % (w.key, w.title))
        for v in w.variants:
            if v.missing:
                log("  skip %-40s %s" % (v.label, v.missing))
        got = raw.setdefault(w.key, {})
        n = reps * w.reps
        for rep in range(n):
            k = rep % len(todo) if todo else 0
            for v in todo[k:] + todo[:k]:
                slot = got.setdefault(v.key, {"values": [], "extra": {}})
                if slot.get("error"):
                    continue  # one failure is enough to report a variant
                try:
                    value = v.run()
                except (RunError, OSError, ValueError, KeyError) as e:
                    slot["error"] = str(e)
                    log("  FAIL %-40s %s" % (v.label, e))
                    continue
                if isinstance(value, tuple):
                    value, extra = value
                    slot["extra"] = extra
                    slot.setdefault("extras", []).append(extra)
                slot["values"].append(value)
            log("  rep %d/%d: %s" % (rep + 1, n, "  ".join(
                "%s=%s" % (v.key, report._num(got[v.key]["values"][-1] /
                                              w.scale))
                for v in todo if got.get(v.key, {}).get("values"))))
    return raw


def git_commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short",
                               "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def main():
    a = options()
    impls = discover(a.build, a.micropython)
    if any(impls[k].missing for k in ("plain", "capi", "peer")):
        sys.exit("bench: the C programs are missing; run `make build` "
                 "(BUILD=%s) first" % a.build)
    uselect_missing = None if has_uselect(a.build) else \
        "%s/python/uselect*.so is not built" % a.build
    workloads = build(impls, a.quick, uselect_missing)
    if a.only:
        # "echo" stands for echo-1, echo-100 and echo-1000.
        wanted = a.only.split(",")
        workloads = [w for w in workloads if w.key in wanted or
                     w.key.split("-")[0] in wanted and
                     w.key.split("-")[-1].isdigit()]
    meta = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": "%s %s" % (platform.system(), platform.release()),
        "cpus": "%d CPUs" % os.cpu_count(), "reps": a.reps,
        "quick": a.quick, "commit": git_commit(), "load_before": load(),
        "python": platform.python_version(),
        "micropython": a.micropython,
    }
    log("bench: %d repetitions%s, build %s, load %s" % (
        a.reps, " (quick)" if a.quick else "", a.build, meta["load_before"]))
    started = time.monotonic()
    raw = {} if a.no_times else measure(workloads, a.reps)
    results_dir = report.ensure_dir(os.path.abspath(a.results))
    counts = {}
    if not a.no_counts:
        log("counts: callgrind instructions and system calls per operation")
        counts = counters.count_all(impls, a.quick,
                                    os.path.join(results_dir, "counts"), log,
                                    a.only.split(",") if a.only else None)
    meta["load_after"] = load()
    meta["seconds"] = round(time.monotonic() - started)
    result = report.analyse(workloads, raw, counts, meta)
    text = report.tables(result)
    log("\n" + text + "\n")
    report.write_json(result, os.path.join(results_dir, "results.json"))
    trouble = report.write_plot(result, os.path.join(results_dir,
                                                     "ratios.png"))
    if trouble:
        log("bench: " + trouble)
    kept = readme_kept(a)
    if kept:
        log("bench: bench/README.md left as it is (%s)" % kept)
    else:
        report.update_readme(os.path.join(BENCH_DIR, "README.md"), text, meta)
    log("bench: done in %d s; results in %s" % (meta["seconds"],
                                                results_dir))


if __name__ == "__main__":
    main()
