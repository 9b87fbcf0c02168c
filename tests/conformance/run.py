#!/usr/bin/env python3
"""run.py: runs the conformance scripts under one interpreter and compares
each one's output with its .exp file.

Usage: run.py INTERPRETER [SCRIPT ...]
       run.py -h | --help
The interpreter is anything that runs `INTERPRETER script.py`: CPython with
our usocket on PYTHONPATH, or a MicroPython binary built with our module; a
path is taken from the current directory, a bare name from PATH. SCRIPTs
are names in tests/conformance (default: every script with a .exp file).
Exits 1 if any script's output differs, 2 if the interpreter cannot be run.
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
        sys.stderr.write(__doc__.strip() + "\n")
        return 2
    if argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if argv[1].startswith("-"):
        sys.stderr.write("run.py: unknown option %s (see run.py --help)\n" % argv[1])
        return 2
    # The scripts run in this directory; a relative path means the caller's.
    interp = os.path.abspath(argv[1]) if os.sep in argv[1] else argv[1]
    passed, failed = 0, []
    for name in scripts(argv[2:]):
        try:
            ok, diff = run_one(interp, name)
        except OSError as e:
            sys.stderr.write("run.py: cannot run %s: %s\n" % (argv[1], e.strerror))
            return 2
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
