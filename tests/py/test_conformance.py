"""The conformance scripts (tests/conformance) under CPython with our module.

The same scripts run under MicroPython with `make test-micropython`; here
each one is a test case, so a failure names the script and shows its diff.
"""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(HERE, "..", "conformance")
sys.path.insert(0, CONF)
import run  # noqa: E402  (tests/conformance/run.py)

PYTHON = "/usr/bin/python3"


def module_path():
    """Where the built usocket module is: PYTHONPATH as `make test-py`
    sets it, else the default build directory."""
    path = os.environ.get("PYTHONPATH")
    if path:  # the scripts run in their own directory: make it absolute
        return os.pathsep.join(os.path.abspath(p) for p in path.split(os.pathsep))
    return os.path.abspath(os.path.join(HERE, "..", "..", "build", "python"))


@pytest.mark.parametrize("script", run.scripts([]))
def test_conformance_script_output_matches_exp(script, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", module_path())
    ok, diff = run.run_one(PYTHON, script)
    assert ok, "%s differs from its .exp:\n%s" % (script, diff)


def test_runner_reports_a_summary_and_fails_on_a_difference(tmp_path):
    # A fake interpreter that prints nothing makes every script differ.
    fake = tmp_path / "silent"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    p = subprocess.run(
        [PYTHON, os.path.join(CONF, "run.py"), str(fake), "s4_constants.py"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out = p.stdout.decode()
    assert p.returncode != 0
    assert out.rstrip().endswith("0 passed, 1 failed")
