"""setup.py: builds the CPython modules for pip (`pip install .`).

The metadata is in pyproject.toml; this file lists what setuptools cannot
find on its own: the C sources (the core in src/ and its POSIX backend, the
CPython glue both modules share, each module's own files) and the type
stubs. The CMake build (`make build`) compiles the same sources.
"""
import glob
import os
import re
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# setuptools wants paths relative to this directory.
os.chdir(os.path.dirname(os.path.abspath(__file__)))


def sources(*patterns):
    return sorted(f for p in patterns for f in glob.glob(p))


def version():
    with open("include/usocket.h") as f:
        return re.search(r'#define US_VERSION "([^"]+)"', f.read()).group(1)


# src/fault.c is the test-only fault injector, never part of a release;
# src/tls.c, the TLS stream, needs an engine, which no module uses yet.
CORE = [
    f
    for f in sources("src/*.c", "src/posix/*.c")
    if f not in ("src/fault.c", "src/tls.c")
]
GLUE = sources("python/common*.c")
HEADERS = sources("include/*.h", "src/*.h", "src/posix/*.h", "python/*.h")
PY_INCLUDE = sorted({sysconfig.get_path("include"), sysconfig.get_path("platinclude")})

# The core and the glue are compiled once, into a static library that
# build_ext links into every module (and only there: it is not installed).
SHARED = (
    "usocket_shared",
    {
        "sources": CORE + GLUE,
        "include_dirs": ["include", "src", "python"] + PY_INCLUDE,
        "obj_deps": {"": HEADERS},
        "cflags": ["-std=gnu11"],
    },
)


def extension(name):
    """The module `name` from python/<name>*.c, or None while it has none."""
    own = sources("python/%s*.c" % name)
    if not own:
        return None
    return Extension(
        name,
        sources=own,
        include_dirs=["include", "src", "python"],
        depends=HEADERS,
        extra_compile_args=["-std=gnu11"],
    )


class build_ext_and_stubs(build_ext):
    """Builds the modules, then adds python/<name>.pyi twice: as <name>.pyi
    next to the module (what IDEs and pyright look for) and as the PEP 561
    stub package <name>-stubs (what mypy looks for). Done here, not in
    build_py, because setuptools skips build_py when there is no Python
    code."""

    def run(self):
        super().run()
        for stub in sources("python/*.pyi"):
            name = os.path.basename(stub)[: -len(".pyi")]
            self.mkpath(self.build_lib)
            self.copy_file(stub, os.path.join(self.build_lib, name + ".pyi"))
            pkg = os.path.join(self.build_lib, name + "-stubs")
            self.mkpath(pkg)
            self.copy_file(stub, os.path.join(pkg, "__init__.pyi"))


setup(
    version=version(),
    ext_modules=[e for e in map(extension, ("usocket", "uselect")) if e],
    # Nothing in Python: say so, or setuptools goes looking for packages
    # among the repository's folders.
    packages=[],
    py_modules=[],
    libraries=[SHARED],
    cmdclass={"build_ext": build_ext_and_stubs},
    # Beside CMake's own files in build/, not among them.
    options={"build": {"build_base": "build/setuptools"}},
    zip_safe=False,
)
