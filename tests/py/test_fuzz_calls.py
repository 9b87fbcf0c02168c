"""test_fuzz_calls.py: a short run of fuzz/py_calls.py, the random-call fuzzer.

The fuzzer calls every function and method of usocket and uselect with
hostile arguments from several threads, each round in a child process; a
crash, a sanitizer report, a hang or a call far slower than any timeout
asked for fails the run. This test gives it a few seconds in whatever build
the suite runs against (the ASan one under make test-asan); make fuzz-py
runs it for longer under ASan.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "fuzz", "py_calls.py")
SECONDS = 5


def test_random_calls_with_hostile_arguments_do_not_crash():
    r = subprocess.run(
        [sys.executable, SCRIPT, "--seconds", str(SECONDS), "--round-seconds", str(SECONDS)],
        capture_output=True, text=True, timeout=SECONDS * 2 + 60, cwd=ROOT)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-6000:]
    summary = [line for line in r.stdout.splitlines() if " calls in " in line]
    assert summary and summary[-1].endswith(", 0 findings"), out[-6000:]
    calls = int(summary[-1].split(": ")[2].split()[0])
    assert calls > 1000, out[-6000:]


def test_a_stalled_round_is_reported_with_every_threads_stacks(tmp_path):
    """The parent catches a call that goes on for long while it lasts: the
    child's kernel stacks and Python tracebacks go into its report."""
    import importlib.util
    import time

    spec = importlib.util.spec_from_file_location("py_calls", SCRIPT)
    py_calls = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(py_calls)
    py_calls.STALL = 1.0
    py_calls.SLOW = 2.0
    py_calls.native_stacks = py_calls.kernel_stacks  # no gdb: quicker
    log = str(tmp_path / "ring")
    child = (
        "import faulthandler, signal, sys, time\n"
        "sys.path.insert(0, %r)\n"
        "import py_calls\n"
        "faulthandler.register(signal.SIGUSR2, all_threads=True)\n"
        "py_calls.Ring(%r).note('T0 sock1.recv(1)')\n"
        "time.sleep(4)\n" % (os.path.dirname(SCRIPT), log))
    errf = tmp_path / "stderr"
    starved = []
    with open(errf, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen([sys.executable, "-c", child], stderr=err)
        try:
            py_calls.watch_stall(p, log, err, time.monotonic() + 60, starved)
        finally:
            p.kill()
            p.wait()
        t1 = time.monotonic()
    text = errf.read_text()
    # A call blocked in the kernel (not waiting for a CPU) stays a finding.
    line = "py_calls: SLOW call (%.1f s, process CPU 0.0 s, ended %.3f): T0 x" % (t1 - t0, t1)
    [(dt, waited, finding)] = py_calls.slow_calls(line, starved)
    assert finding and waited < dt - py_calls.SLOW, (dt, waited, starved)
    assert "py_calls: STALL: thread(s) [0] in a call" in text, text
    assert "the child's kernel stacks (look 1; load " in text, text
    assert "state S, run delay " in text and "wchan hrtimer_nanosleep" in text, text
    assert 'File "<string>", line 6 in <module>' in text, text  # the sleep


def load_py_calls():
    import importlib.util

    spec = importlib.util.spec_from_file_location("py_calls", SCRIPT)
    py_calls = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(py_calls)
    return py_calls


def test_a_slow_call_is_excused_only_for_the_time_the_child_waited_for_a_cpu():
    py_calls = load_py_calls()
    line = "py_calls: SLOW call (12.5 s, process CPU 0.1 s, ended 1000.000): T1 poll5.poll(5)"
    # It ran from 987.5 to 1000, starved for 7.5 + 3 s: 2 s of its own.
    [(dt, waited, finding)] = py_calls.slow_calls(line, [(980.0, 995.0), (996.0, 999.0)])
    assert (dt, round(waited, 3), finding) == (12.5, 10.5, False)
    # Starved for 0.5 s only: 12 s of its own, a finding.
    [(dt, waited, finding)] = py_calls.slow_calls(line, [(986.0, 988.0)])
    assert (round(waited, 3), finding) == (0.5, True)
    assert py_calls.slow_calls("py_calls: SLOW call (12.5 s): old form", []) == []


def test_run_delay_counts_the_time_a_process_waits_for_a_cpu():
    """What the excuse rests on: two processes spinning on one CPU each
    wait for it about half the time."""
    import time

    py_calls = load_py_calls()
    spin = "import os; os.sched_setaffinity(0, {%d}); exec('while True: pass')" % (
        min(os.sched_getaffinity(0)))
    ps = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]
    try:
        time.sleep(0.5)
        t0, d0 = time.monotonic(), py_calls.run_delay(ps[0].pid)
        time.sleep(2)
        t1, d1 = time.monotonic(), py_calls.run_delay(ps[0].pid)
    finally:
        for p in ps:
            p.kill()
            p.wait()
    assert d1 - d0 >= 0.3 * (t1 - t0), (d0, d1, t1 - t0)
    assert py_calls.run_delay(ps[0].pid) is None  # gone


def watch_spinning_child(tmp_path, notes_while_spinning):
    """The intervals watch_stall calls starved for a child that spins on a
    CPU it shares with a hog, noting one call or one call per loop."""
    import time

    py_calls = load_py_calls()
    py_calls.STALL = 60.0
    cpu = min(os.sched_getaffinity(0))
    log = str(tmp_path / "ring")
    child = (
        "import os, sys\n"
        "os.sched_setaffinity(0, {%d})\n"
        "sys.path.insert(0, %r)\n"
        "import py_calls\n"
        "ring = py_calls.Ring(%r)\n"
        "ring.note('T0 x')\n"
        "while True:\n"
        "    %s\n" % (cpu, os.path.dirname(SCRIPT), log,
                      "ring.note('T0 x')" if notes_while_spinning else "pass"))
    # Two hogs: the child gets a third of the CPU, waiting two thirds.
    hogs = [subprocess.Popen([sys.executable, "-c", "import os; os.sched_setaffinity(0, {%d}); "
                              "exec('while True: pass')" % cpu]) for _ in range(2)]
    starved = []
    try:
        with open(tmp_path / "stderr", "wb") as err:
            p = subprocess.Popen([sys.executable, "-c", child], stderr=err)
            try:
                time.sleep(0.5)
                py_calls.watch_stall(p, log, err, time.monotonic() + 2.5, starved)
            except subprocess.TimeoutExpired:
                pass
            finally:
                p.kill()
                p.wait()
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    return sum(b - a for a, b in starved)


def test_a_whole_child_waiting_for_a_cpu_is_starved(tmp_path):
    t = watch_spinning_child(tmp_path, False)
    assert t >= 1.25, t  # of 2.5 s


def test_a_child_whose_calls_go_on_is_not_starved(tmp_path):
    # Only a 0.1 s look in which the machine gave it no CPU at all counts.
    t = watch_spinning_child(tmp_path, True)
    assert t <= 0.5, t
