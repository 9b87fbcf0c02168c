# report.py: from raw repetitions to what a reader sees: medians with min
# and max, paired ratios, the goals of issue 5 met or not, and the same
# tables as text, as bench/results/results.json, as a plot of the ratios
# (bench/results/ratios.png) and between the markers of bench/README.md.
import json
import os
import statistics

BEGIN = "<!-- bench-results:begin (written by bench/run.py) -->"
END = "<!-- bench-results:end -->"

# (workload, kind, what, op, target, text). kind "ratio": a paired ratio
# of two variants' figures; "callgrind": instructions per operation of
# what[0] over what[1]; "instructions": instructions per operation of
# what; "syscalls": system calls per operation of what.
GOALS = [
    ("pingpong", "ratio", ("usocket", "plain"), ">=", 0.98,
     "ping-pong round trips/s, usocket vs plain C"),
    ("pingpong", "callgrind", ("usocket", "cpython"), "<=", 0.5,
     "ping-pong instructions per round trip, usocket vs CPython"),
    ("bulk", "ratio", ("usocket", "plain"), ">=", 0.95,
     "bulk throughput, usocket vs plain C"),
    ("bulk", "ratio", ("usocket", "cpython"), ">=", 1.0,
     "bulk throughput, usocket vs CPython"),
    ("readline", "syscalls", "usocket", "<=", 2,
     "readline system calls per line, usocket (CPython)"),
    ("readline", "syscalls", "mp-usocket", "<=", 2,
     "readline system calls per line, usocket (MicroPython)"),
    ("readline", "ratio", ("usocket", "plain"), ">=", 0.9,
     "readline lines/s, usocket vs plain-C MSG_PEEK + recv"),
    ("readline", "ratio", ("mp-usocket", "mp-builtin"), ">=", 10,
     "readline lines/s, ours vs MicroPython's built-in"),
    ("makefile-readline", "ratio", ("usocket", "cpython"), ">=", 2,
     "makefile('rb', 8192).readline vs CPython makefile('rb').readline"),
    ("getaddrinfo", "ratio", ("usocket", "cpython"), ">=", 10,
     "getaddrinfo('127.0.0.1', 80) calls/s, usocket vs CPython"),
    ("accept", "ratio", ("usocket", "cpython"), ">=", 1.0,
     "connect + accept + close cycles/s, usocket vs CPython"),
    ("poll", "ratio", ("usocket-10000", "usocket-10"), "<=", 2,
     "uselect poll(0) cost, 10,000 idle + 1 vs 10 + 1"),
    ("memory", "ratio", ("usocket-trace", "cpython-trace"), "<=", 1,
     "bytes per idle socket (tracemalloc), usocket vs CPython"),
    ("memory", "ratio", ("usocket-rss", "cpython-rss"), "<=", 1,
     "bytes per idle socket (RSS), usocket vs CPython"),
    ("echo-100", "ratio", ("usocket", "uvloop"), ">=", 1.3,
     "echo server round trips/s, 100 connections, usocket vs uvloop "
     "streams"),
    ("echo-1000", "ratio", ("usocket", "uvloop"), ">=", 1.3,
     "echo server round trips/s, 1000 connections, usocket vs uvloop "
     "streams"),
    ("echo-100", "ratio", ("usocket", "c"), ">=", 0.95,
     "echo server round trips/s, 100 connections, usocket vs plain-C "
     "epoll"),
    ("echo-1000", "ratio", ("usocket", "c"), ">=", 0.95,
     "echo server round trips/s, 1000 connections, usocket vs plain-C "
     "epoll"),
    ("echo", "instructions", "usocket", "<=", 2200,
     "echo server instructions per round trip (100 connections), "
     "usocket + uselect.poll"),
    ("tls-readline", "ratio", ("usocket", "plain"), ">=", 0.9,
     "TLS readline lines/s, usocket + ussl vs plain-C OpenSSL"),
    ("tls-pingpong", "instructions", "tls-usocket", "<=", 16000,
     "TLS ping-pong instructions per round trip, usocket + ussl"),
    ("tls-bulk", "ratio", ("usocket", "plain"), ">=", 0.95,
     "TLS bulk throughput, usocket + ussl vs plain-C OpenSSL"),
    ("tls-handshake", "ratio", ("usocket", "plain"), ">=", 0.95,
     "TLS handshakes/s, usocket + ussl vs plain-C OpenSSL"),
    ("tls-memory", "ratio", ("usocket-heap", "cpython-heap"), "<=", 1,
     "bytes per idle TLS session (heap), usocket + ussl vs CPython ssl"),
    ("tls-memory", "ratio", ("usocket-rss", "cpython-rss"), "<=", 1,
     "bytes per idle TLS session (RSS), usocket + ussl vs CPython ssl"),
    # The core alone, through the C API: where the binding's cost starts.
    ("pingpong", "ratio", ("capi", "plain"), ">=", 0.98,
     "(core) ping-pong round trips/s, C API vs plain C"),
    ("bulk", "ratio", ("capi", "plain"), ">=", 0.95,
     "(core) bulk throughput, C API vs plain C"),
    ("readline", "ratio", ("capi", "plain"), ">=", 0.9,
     "(core) readline lines/s, C API vs plain C"),
    ("readline", "syscalls", "capi", "<=", 2,
     "(core) readline system calls per line, C API"),
    ("tls-readline", "ratio", ("capi", "plain"), ">=", 0.9,
     "(core) TLS readline lines/s, C API vs plain-C OpenSSL"),
    ("tls-pingpong", "instructions", "tls-capi", "<=", 16000,
     "(core) TLS ping-pong instructions per round trip, C API"),
    ("tls-bulk", "ratio", ("capi", "plain"), ">=", 0.95,
     "(core) TLS bulk throughput, C API vs plain-C OpenSSL"),
    ("tls-handshake", "ratio", ("capi", "plain"), ">=", 0.95,
     "(core) TLS handshakes/s, C API vs plain-C OpenSSL"),
]


def summarize(values):
    if not values:
        return {}
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values), "n": len(values)}


def paired_ratios(a, b):
    """Ratios of repetitions run side by side: a drift of the machine
    between repetitions cancels out of each one."""
    return [x / y for x, y in zip(a, b)
            if x is not None and y is not None and y > 0]


def analyse(workloads, raw, counts, meta):
    """The whole result as one JSON-able dict. raw: {workload key:
    {variant key: {"values": [...], "extra": {}, "error": ...}}}."""
    out = {"meta": meta, "workloads": [], "counts": counts, "goals": []}
    for w in workloads:
        entry = {"key": w.key, "title": w.title, "unit": w.unit,
                 "scale": w.scale, "higher_better": w.higher_better,
                 "reps": meta["reps"] * w.reps, "variants": [],
                 "ratios": []}
        for v in w.variants:
            r = raw.get(w.key, {}).get(v.key, {})
            ve = {"key": v.key, "label": v.label}
            if v.missing:
                ve["missing"] = v.missing
            elif not r:
                ve["missing"] = "not run"
            elif r.get("error"):
                ve["error"] = r["error"]
            else:
                ve["values"] = r["values"]
                ve.update(summarize(r["values"]))
                ve["extra"] = r.get("extra", {})
                ve["extras"] = r.get("extras", [])
            entry["variants"].append(ve)
        by_key = {v["key"]: v for v in entry["variants"]}
        for a, b in w.ratios:
            re = {"num": a, "den": b, "label": "%s / %s" %
                  (by_key[a]["label"], by_key[b]["label"])}
            va, vb = by_key[a].get("values"), by_key[b].get("values")
            if va and vb:
                re["values"] = paired_ratios(va, vb)
                re.update(summarize(re["values"]))
            else:
                re["missing"] = "; ".join(
                    "%s: %s" % (x["label"], x.get("missing") or x.get("error"))
                    for x in (by_key[a], by_key[b]) if not x.get("values"))
            entry["ratios"].append(re)
        out["workloads"].append(entry)
    out["goals"] = [check_goal(out, g) for g in GOALS]
    return out


def _met(value, op, target):
    return value >= target if op == ">=" else value <= target


def check_goal(result, goal):
    workload, kind, what, op, target, text = goal
    g = {"goal": text, "kind": kind, "op": op, "target": target}
    if kind == "ratio" and not any(w["key"] == workload
                                   for w in result["workloads"]) or \
            kind != "ratio" and workload not in result["counts"]:
        return dict(g, status="skipped", why="not run")
    if kind == "ratio":
        w = next(x for x in result["workloads"] if x["key"] == workload)
        r = next(x for x in w["ratios"] if (x["num"], x["den"]) == what)
        if "median" not in r:
            return dict(g, status="skipped", why=r.get("missing"))
        g.update(measured=r["median"], min=r["min"], max=r["max"])
        g["status"] = "met" if _met(r["median"], op, target) else "NOT met"
        if _met(r["min"], op, target) != _met(r["max"], op, target):
            g["status"] += " (range straddles the target)"
        return g
    counter = "callgrind" if kind == "instructions" else kind
    counts = result["counts"].get(workload, {}).get(counter, {})
    keys = what if kind == "callgrind" else (what,)
    figures = [counts.get(k, {}) for k in keys]
    for k, f in zip(keys, figures):
        if "per_op" not in f:
            return dict(g, status="skipped",
                        why="%s: %s" % (k, f.get("missing") or
                                        f.get("error") or "not counted"))
    if kind == "callgrind":
        g["measured"] = figures[0]["per_op"] / figures[1]["per_op"]
        g["evidence"] = "%s vs %s instructions" % (figures[0]["per_op"],
                                                   figures[1]["per_op"])
    elif kind == "instructions":
        g["measured"] = figures[0]["per_op"]
    else:
        g["measured"] = figures[0]["per_op"]
        g["evidence"] = ", ".join("%s %s" % (k, v) for k, v in
                                  figures[0]["by_call"].items())
    g["status"] = "met" if _met(g["measured"], op, target) else "NOT met"
    return g


# ---- text ---------------------------------------------------------------

def _num(x):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    if abs(x) >= 1:
        return "%.2f" % x
    if abs(x) >= 0.01 or x == 0:
        return "%.3f" % x
    return "%.2g" % x


def _table(head, rows):
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def tables(result):
    """The results as Markdown, readable as plain text too."""
    rows, ratio_rows = [], []
    for w in result["workloads"]:
        for v in w["variants"]:
            if "median" in v:
                s = w["scale"]
                rows.append([w["key"], v["label"],
                             "%s %s" % (_num(v["median"] / s), w["unit"]),
                             "%s - %s" % (_num(v["min"] / s),
                                          _num(v["max"] / s))])
            else:
                why = v.get("missing") or "failed: " + v.get("error", "")
                rows.append([w["key"], v["label"], "skipped", why])
        for r in w["ratios"]:
            if "median" in r:
                ratio_rows.append([w["key"], r["label"],
                                   "%sx" % _num(r["median"]),
                                   "%s - %s" % (_num(r["min"]),
                                                _num(r["max"]))])
    goal_rows = []
    for g in result["goals"]:
        measured = "-" if "measured" not in g else (
            _num(g["measured"]) + ("" if g["kind"] in ("syscalls",
                                                       "instructions")
                                   else "x"))
        if "min" in g:
            measured += " (%s - %s)" % (_num(g["min"]), _num(g["max"]))
        status = g["status"] + (": " + g["why"] if g.get("why") else "")
        goal_rows.append([g["goal"], measured,
                          "%s %s" % (g["op"], g["target"]), status])
    count_rows = []
    for workload, c in result["counts"].items():
        keys = list(dict.fromkeys(list(c["callgrind"]) + list(c["syscalls"])))
        for k in keys:
            cg, sc = c["callgrind"].get(k, {}), c["syscalls"].get(k, {})
            if "per_op" not in cg and "per_op" not in sc:
                continue
            full = sc.get("per_op_full_speed")
            count_rows.append([
                workload, k, _num(cg.get("per_op")),
                _num(sc.get("per_op")) + ("" if full is None else
                                          " (%s)" % _num(full)),
                c["per"]])
    cpu_rows = []
    for w in result["workloads"]:
        for v in w["variants"]:
            extras = [e for e in v.get("extras", []) if "user_us" in e]
            if extras:
                user = statistics.median(e["user_us"] for e in extras)
                system = statistics.median(e["sys_us"] for e in extras)
                cpu_rows.append([w["key"], v["label"], _num(user),
                                 _num(system), _num(user + system)])
    meta = result["meta"]
    more = {}  # repetitions other than the run's: the workloads with each
    for w in result["workloads"]:
        if w["reps"] != meta["reps"]:
            more.setdefault(w["reps"], []).append(w["key"])
    parts = [
        "Run %s on %s (%s), %d repetitions%s%s, interleaved; load average "
        "%s before, %s after." % (
            meta["date"], meta["machine"], meta["cpus"], meta["reps"],
            "".join(" (%d of %s)" % (n, ", ".join(keys))
                    for n, keys in sorted(more.items())),
            ", quick sizes" if meta["quick"] else "",
            meta["load_before"], meta["load_after"]),
        "", "Figures (median of the repetitions, min - max):", "",
        _table(["workload", "implementation", "median", "min - max"], rows),
        "", "Ratios (each the median of per-repetition ratios):", "",
        _table(["workload", "ratio", "median", "min - max"], ratio_rows),
        "", "Goals:", "",
        _table(["goal", "measured", "target", "status"], goal_rows),
    ]
    if cpu_rows:
        parts += ["", "Echo servers' CPU time per round trip, in "
                  "microseconds (the whole process, start-up included; "
                  "median of the repetitions):", "",
                  _table(["workload", "server", "user", "system", "total"],
                         cpu_rows)]
    if count_rows:
        parts += ["", "Counts per operation (callgrind: user-space "
                  "instructions; system calls: strace -c -f, in brackets "
                  "perf's count at full speed):", "",
                  _table(["workload", "implementation", "instructions",
                          "system calls", "per"], count_rows)]
    return "\n".join(parts)


# ---- files --------------------------------------------------------------

def write_json(result, path):
    with open(path, "w") as f:
        json.dump(result, f, indent=1, sort_keys=False)
        f.write("\n")


# Short names for the plot's labels.
SHORT = {"plain": "plain C", "capi": "C API", "cpython": "CPython",
         "usocket": "usocket", "mp-builtin": "MP built-in",
         "mp-usocket": "MP usocket", "usocket-10": "uselect, 10",
         "usocket-10000": "uselect, 10k", "cpython-10": "select.poll, 10",
         "cpython-10000": "select.poll, 10k",
         "usocket-trace": "usocket", "cpython-trace": "CPython",
         "usocket-rss": "usocket", "cpython-rss": "CPython",
         "c": "C epoll", "selectors": "selectors", "asyncio": "asyncio",
         "uvloop": "uvloop", "mp-usocket": "MP usocket"}
PLOT_RANGE = (0.05, 50.0)


def _short(workload, r):
    what = {"memory": {"trace": " (tracemalloc)", "rss": " (RSS)"}}
    tail = ""
    for k, v in what.get(workload, {}).items():
        if r["num"].endswith(k):
            tail = v
    return "%s: %s / %s%s" % (workload, SHORT.get(r["num"], r["num"]),
                              SHORT.get(r["den"], r["den"]), tail)


def write_plot(result, path):
    """One bar per ratio (log scale, min - max whiskers); a ratio that a
    goal is about is coloured by whether it is met, and its target drawn."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        return "no plot: %s (scripts/deps.sh bench installs it)" % e
    targets = {}
    for goal in GOALS:
        if goal[1] == "ratio":
            targets[(goal[0],) + goal[2]] = goal[3:5]
    bars = []
    for w in result["workloads"]:
        for r in w["ratios"]:
            if "median" in r:
                bars.append((w["key"], r, targets.get((w["key"], r["num"],
                                                       r["den"]))))
    if not bars:
        return "no plot: no ratio was measured"
    lo, hi = PLOT_RANGE
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(bars) + 1.4))
    for i, (wkey, r, target) in enumerate(bars):
        colour = "#999999"
        if target:
            colour = "#2a9d3a" if _met(r["median"], *target) else "#d0342c"
            ax.plot([target[1]] * 2, [i - 0.4, i + 0.4], color="black",
                    linewidth=1.5)
        # Ratios far off 1 (poll(2) against epoll) are drawn to the edge,
        # their value written out, so that the range near 1 stays legible.
        clip = lambda x: min(max(x, lo), hi)
        ax.barh(i, clip(r["median"]) - lo, left=lo, color=colour,
                height=0.6)
        ax.plot([clip(r["min"]), clip(r["max"])], [i, i], color="black",
                linewidth=0.8)
        ax.text(clip(r["median"]) * 1.06, i + 0.25,
                "%sx" % _num(r["median"]), fontsize=7)
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels([_short(b[0], b[1]) for b in bars], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(lo, hi * 2)
    ax.axvline(1.0, color="#555555", linewidth=0.6, linestyle="--")
    ax.set_xlabel("ratio (log scale); black tick: goal; green: met, red: "
                  "not met, grey: no goal")
    ax.set_title("usocket benchmarks, %s (%s)" % (
        result["meta"]["date"], "quick" if result["meta"]["quick"]
        else "%d reps" % result["meta"]["reps"]), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def update_readme(path, text, meta):
    """Replaces what is between the markers; the rest is the README's.
    The committed figures are a full run's: the tables of a quick run
    (meta["quick"]: smoke sizes, 2 repetitions) never replace them, and
    then the file is left as it is and False returned."""
    if meta.get("quick"):
        return False
    with open(path) as f:
        content = f.read()
    start, end = content.find(BEGIN), content.find(END)
    if start < 0 or end < start:
        content = content.rstrip("\n") + "\n\n" + BEGIN + "\n" + END + "\n"
        start, end = content.find(BEGIN), content.find(END)
    new = content[:start + len(BEGIN)] + "\n" + text + "\n" + content[end:]
    with open(path, "w") as f:
        f.write(new)
    return True


def ensure_dir(path):
    os.makedirs(path, exist_ok=True)
    return path
