"""test_make_clean.py: `make clean` removes what the builds, tests, pip and
the benchmarks leave in the tree, and .gitignore hides each of those while
it is there.

It runs `make clean` in a scratch copy of the Makefile and mk/*.mk (the
real tree's builds stay), after laying out there every path that the
project's commands create."""
import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# What the project's commands leave behind, and which command does it.
LEFTOVERS = {
    "build/python/usocket.so": "make build",
    "build-asan/us_tests": "make asan",
    "build-clang/us_tests": "make clang",
    "build-fuzz/fuzz_addr": "make fuzz-short",
    "build-mbedtls/us_tests": "make test-tls-mbedtls",
    "build-mbedtls-asan/us_tests": "make test-tls-mbedtls",
    "build-lib/libusocket.a": "README's C library recipe",
    "usocket.egg-info/PKG-INFO": "pip install .",
    "dist/usocket.tar.gz": "a source distribution",
    "bench/results/results.json": "make bench",
    "tests/py/__pycache__/conftest.cpython-311.pyc": "pytest",
    "bench/__pycache__/report.cpython-311.pyc": "make bench",
    ".pytest_cache/README.md": "pytest",
}
# Kept on purpose: what `make fuzz` found, the seed of its next run.
KEPT = {"fuzz/corpus-work/fuzz_addr/abc": "make fuzz"}


@pytest.fixture
def scratch(tmp_path):
    shutil.copy(os.path.join(REPO, "Makefile"), tmp_path)
    shutil.copytree(os.path.join(REPO, "mk"), tmp_path / "mk")
    for path in list(LEFTOVERS) + list(KEPT) + ["src/core.c"]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    return tmp_path


def files_under(root):
    out = set()
    for d, _, files in os.walk(root):
        out.update(os.path.relpath(os.path.join(d, f), root) for f in files)
    return out


def test_make_clean_removes_every_leftover(scratch):
    if not shutil.which("make"):
        pytest.skip("no make")
    proc = subprocess.run(["make", "-s", "clean"], cwd=scratch, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    left = files_under(scratch) - {"Makefile", "src/core.c"}
    left = {f for f in left if not f.startswith("mk/")}
    assert left == set(KEPT), "make clean left: %s" % sorted(left - set(KEPT))


@pytest.mark.parametrize("path", sorted(LEFTOVERS) + sorted(KEPT))
def test_gitignore_hides_each_leftover(path):
    if not os.path.isdir(os.path.join(REPO, ".git")) and not os.path.isfile(
            os.path.join(REPO, ".git")):
        pytest.skip("not a git checkout")
    proc = subprocess.run(["git", "-C", REPO, "check-ignore", "-q", "--no-index", path],
                          capture_output=True, text=True, timeout=30)
    if proc.returncode == 128:
        pytest.skip("git cannot check: " + proc.stderr.strip())
    assert proc.returncode == 0, f"{path} (from {LEFTOVERS.get(path) or KEPT[path]}) is not in .gitignore"
