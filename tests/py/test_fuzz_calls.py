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
    with open(errf, "wb") as err:
        p = subprocess.Popen([sys.executable, "-c", child], stderr=err)
        try:
            py_calls.watch_stall(p, log, err, time.monotonic() + 60)
        finally:
            p.kill()
            p.wait()
    text = errf.read_text()
    assert "py_calls: STALL: thread(s) [0] in a call" in text, text
    assert "the child's kernel stacks (look 1; load " in text, text
    assert "state S, run delay " in text and "wchan hrtimer_nanosleep" in text, text
    assert 'File "<string>", line 6 in <module>' in text, text  # the sleep
