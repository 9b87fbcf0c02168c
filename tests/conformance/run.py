#!/usr/bin/env python3
"""run.py: runs the conformance scripts under one interpreter and compares
each one's output with its .exp file.

Usage: run.py INTERPRETER [SCRIPT ...]
The interpreter is anything that runs `INTERPRETER script.py`: CPython with
our usocket on PYTHONPATH, or a MicroPython binary built with our module.
Exits non-zero if any script's output differs.
"""
import difflib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 60  # seconds per script; every script bounds its own waits


def scripts(names):
    if names:
        return [os.path.basename(n) for n in names]
    return sorted(
        f
        for f in os.listdir(HERE)
        if f.endswith(".py") and os.path.exists(os.path.join(HERE, f[:-3] + ".exp"))
    )


def run_one(interp, name):
    """Returns (passed, diff text)."""
    with open(os.path.join(HERE, name[:-3] + ".exp")) as f:
        want = f.read()
    try:
        p = subprocess.run(
            [interp, name],
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=TIMEOUT,
        )
        got = p.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
        if p.returncode != 0:
            got += "[exit status %d]\n" % p.returncode
    except subprocess.TimeoutExpired:
        got = "[timed out after %d s]\n" % TIMEOUT
    if got == want:
        return True, ""
    diff = difflib.unified_diff(
        want.splitlines(True), got.splitlines(True), name[:-3] + ".exp", "output"
    )
    return False, "".join(diff)


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip())
        return 2
    interp, passed, failed = argv[1], 0, []
    for name in scripts(argv[2:]):
        ok, diff = run_one(interp, name)
        print("pass " if ok else "FAIL ", name)
        if ok:
            passed += 1
        else:
            failed.append(name)
            sys.stdout.write(diff)
    print("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
