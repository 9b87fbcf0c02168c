"""How the conformance runner and `make test-micropython` meet a user's
mistakes: asking for help, or naming an interpreter that cannot be run.
Each answer is a usage text or one clear line, never a Python traceback.
"""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(ROOT, "tests", "conformance", "run.py")
PYTHON = "/usr/bin/python3"


def run_py(*args, cwd=None):
    return subprocess.run([PYTHON, RUN, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def make_test_micropython(micropython):
    # A make of its own, not a sub-make of `make test` (whose flags would
    # add "Entering directory" lines).
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    return subprocess.run(["make", "--no-print-directory", "-C", ROOT,
                           "test-micropython", "MICROPYTHON=" + micropython],
                          capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage(flag):
    r = run_py(flag)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("run.py: runs the conformance scripts")
    assert "Usage: run.py INTERPRETER [SCRIPT ...]" in r.stdout
    assert r.stderr == ""


def test_unknown_option_is_one_line_and_usage_status():
    r = run_py("--verbose")
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "--verbose" in lines[0], r.stderr


def test_missing_interpreter_is_one_line(tmp_path):
    missing = str(tmp_path / "no-such-micropython")
    r = run_py(missing, "s4_constants.py")
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert missing in lines[0] and "No such file or directory" in lines[0]


def test_relative_interpreter_is_taken_from_the_callers_directory(tmp_path):
    # The scripts run in tests/conformance, but a relative interpreter path
    # means what it means where the user typed it.
    fake = tmp_path / "silent"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    r = run_py("./silent", "s4_constants.py", cwd=str(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.rstrip().endswith("0 passed, 1 failed")
    assert "Traceback" not in r.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("kind", ["missing", "not executable", "directory"])
def test_make_test_micropython_with_a_bad_path_ends_in_one_line(tmp_path, kind):
    bad = tmp_path / "micropython"
    if kind == "not executable":
        bad.write_text("#!/bin/sh\nexit 0\n")
        bad.chmod(0o644)
    elif kind == "directory":
        bad.mkdir()
    r = make_test_micropython(str(bad))
    assert r.returncode != 0
    out = (r.stdout + r.stderr).strip().splitlines()
    assert "Traceback" not in r.stdout + r.stderr
    assert len(out) == 1, out
    assert str(bad) in out[0] and "micropython/README.md" in out[0]
