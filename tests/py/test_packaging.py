"""test_packaging.py: `pip install` builds a usocket that works from a venv.

The README's recipe, offline: a venv made by Debian's python3 with the
system site-packages (for setuptools and wheel), then
`pip install --no-build-isolation --no-index` of a copy of the repository
(so the source tree stays clean). The installed module must import from the
venv, resolve a numeric address, come with its type stubs, and run a
MicroPython script with `python -m usocket run`.
"""
import faulthandler
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYSTEM_PYTHON = "/usr/bin/python3"
# Building both modules takes some seconds; this bounds a stuck build.
BUILD_TIMEOUT = 240

pytestmark = pytest.mark.skipif(
    "libasan" in os.environ.get("LD_PRELOAD", ""),
    reason="checked by the normal run; under the sanitizer runtime the compiler would be preloaded with it",
)


@pytest.fixture(autouse=True)
def hang_guard():
    """Replaces conftest's per-test guard (tens of seconds, sized for socket
    calls): a build is slower but bounded by BUILD_TIMEOUT, with a hard
    stop behind it."""
    faulthandler.dump_traceback_later(BUILD_TIMEOUT + 60, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def source_files():
    """The repository's files, without build trees or anything ignored."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
        return [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for top, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if not d.startswith(("build", ".git", "__pycache__"))]
            files += [os.path.relpath(os.path.join(top, n), ROOT) for n in names]
        return files


def copy_tree(dest):
    for rel in source_files():
        src = os.path.join(ROOT, rel)
        if os.path.isfile(src):  # a tracked file may be deleted in the tree
            os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))


def clean_env():
    """The environment without anything that would load the module from
    the build tree or preload a sanitizer into pip and the compiler."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"):
        env.pop(name, None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, env=clean_env(), timeout=BUILD_TIMEOUT, **kw)
    assert r.returncode == 0, "%s failed (%d):\n%s\n%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr)
    return r.stdout


CHECK = """
import os, sysconfig
import usocket
print(os.path.realpath(usocket.__file__))
print(sysconfig.get_path("platlib"))
host, port = usocket.getaddrinfo("127.0.0.1", 80)[0][-1]
print(host, port)
"""


RUNNER_SCRIPT = """
import sys, socket, select
print(sys.argv[0], sys.argv[1], type(socket.socket()).__module__, select.__name__)
"""


@pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason="needs Debian's /usr/bin/python3")
def test_pip_install_into_a_venv_gives_a_working_module_with_stubs(tmp_path):
    pydir = os.listdir(os.path.join(ROOT, "python"))
    # ussl is a CMake build's module (this build links no TLS engine): its
    # stub would promise a module that is not there.
    stubs = sorted(n for n in pydir if n.endswith(".pyi") and n != "ussl.pyi")
    assert "usocket.pyi" in stubs, "python/usocket.pyi is missing"
    find = "import importlib.util as u, sys; sys.exit(not all(map(u.find_spec, ('pip', 'setuptools', 'wheel'))))"
    tools = subprocess.run([SYSTEM_PYTHON, "-c", find], env=clean_env(), timeout=60)
    assert tools.returncode == 0, "the build needs Debian's python3-pip (setuptools, wheel): see scripts/deps.sh"

    src, venv = tmp_path / "src", tmp_path / "venv"
    copy_tree(str(src))
    # Without its own pip the venv is made at once; the system's pip, seen
    # through --system-site-packages, installs into the venv all the same.
    run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)])
    py = str(venv / "bin" / "python")
    pip = [py, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-index", "--no-deps", "--no-cache-dir"]
    run(pip + [str(src)])

    module, site, addr = run([py, "-c", CHECK], cwd=str(tmp_path)).split("\n")[:3]
    assert module.startswith(os.path.realpath(str(venv)) + os.sep), module
    assert addr == "127.0.0.1 80"
    for stub in stubs:
        with open(os.path.join(ROOT, "python", stub)) as f:
            want = f.read()
        name = stub[: -len(".pyi")]
        for installed in (os.path.join(site, stub), os.path.join(site, name + "-stubs", "__init__.pyi")):
            assert os.path.isfile(installed), installed + " was not installed"
            with open(installed) as f:
                assert f.read() == want, installed + " differs from python/" + stub
    assert not os.path.exists(os.path.join(site, "ussl.pyi"))
    if any(n.startswith("uselect") and n.endswith(".c") for n in pydir):
        run([py, "-c", "import uselect; uselect.poll()"], cwd=str(tmp_path))

    # The runner comes with the package: `-m usocket run` from the venv.
    (tmp_path / "mp.py").write_text(RUNNER_SCRIPT)
    out = run([py, "-m", "usocket", "run", "mp.py", "one"], cwd=str(tmp_path))
    assert out.split() == ["mp.py", "one", "usocket", "uselect"], out
