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
