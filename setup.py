"""setup.py: builds the CPython modules for pip (`pip install .`).

The metadata is in pyproject.toml; this file lists what setuptools cannot
find on its own: the C sources (the core in src/ and its POSIX backend, the
CPython glue both modules share, each module's own files), the type stubs,
and the Python files of the usocket package (python/usocket/: the runner,
`python3 -m usocket run`). usocket is a package whose __init__ is the C
module itself, as in the CMake build (`make build`), which compiles the
same sources.
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


# The modules built here.
MODULES = ("usocket", "uselect")

# The modules that are packages: python/<name>/ holds their Python files.
PACKAGES = sorted(os.path.basename(os.path.dirname(f)) for f in sources("python/*/__main__.py"))

# src/fault.c is the test-only fault injector, never part of a release;
# src/tls.c, the TLS stream, needs an engine (OpenSSL) that this build does
# not link: ussl (python/ussl*.c) is built by CMake only (make build).
CORE = [
    f
    for f in sources("src/*.c", "src/posix/*.c")
    if f not in ("src/fault.c", "src/tls.c")
]
GLUE = sources("python/common*.c")
HEADERS = sources("include/*.h", "src/*.h", "src/posix/*.h", "python/*.h")
PY_INCLUDE = sorted({sysconfig.get_path("include"), sysconfig.get_path("platinclude")})

# A module exports its PyInit_ function and nothing else (as in the CMake
# build): everything else is compiled hidden, so that calls between the
# glue and the core bind inside the module and may inline.
CFLAGS = ["-std=gnu11", "-fvisibility=hidden", "-fno-semantic-interposition"]

# The core and the glue are compiled once, into a static library that
# build_ext links into every module (and only there: it is not installed).
SHARED = (
    "usocket_shared",
    {
        "sources": CORE + GLUE,
        "include_dirs": ["include", "src", "python"] + PY_INCLUDE,
        "obj_deps": {"": HEADERS},
        "cflags": CFLAGS,
    },
)


def extension(name):
    """The module `name` from python/<name>*.c, or None while it has none;
    when python/<name>/ holds Python files, the module is that package's
    __init__ (its init function is still named after `name`)."""
    own = sources("python/%s*.c" % name)
    if not own:
        return None
    return Extension(
        name + ".__init__" if name in PACKAGES else name,
        sources=own,
        include_dirs=["include", "src", "python"],
        depends=HEADERS,
        extra_compile_args=CFLAGS,
    )


class build_ext_and_stubs(build_ext):
    """Builds the modules, then adds python/<name>.pyi twice: as <name>.pyi
    next to the module (what IDEs and pyright look for) and as the PEP 561
    stub package <name>-stubs (what mypy looks for); for a package, a third
    time as its __init__.pyi. Done here, where every module is known."""

    def run(self):
        super().run()
        for stub in sources("python/*.pyi"):
            name = os.path.basename(stub)[: -len(".pyi")]
            if name not in MODULES:
                continue  # ussl's: a CMake build's module only
            self.mkpath(self.build_lib)
            self.copy_file(stub, os.path.join(self.build_lib, name + ".pyi"))
            pkg = os.path.join(self.build_lib, name + "-stubs")
            self.mkpath(pkg)
            self.copy_file(stub, os.path.join(pkg, "__init__.pyi"))
            if name in PACKAGES:
                self.mkpath(os.path.join(self.build_lib, name))
                self.copy_file(stub, os.path.join(self.build_lib, name, "__init__.pyi"))


setup(
    version=version(),
    ext_modules=[e for e in map(extension, MODULES) if e],
    # Only these packages: else setuptools goes looking for packages among
    # the repository's folders.
    packages=PACKAGES,
    package_dir={name: os.path.join("python", name) for name in PACKAGES},
    py_modules=[],
    libraries=[SHARED],
    cmdclass={"build_ext": build_ext_and_stubs},
    # Beside CMake's own files in build/, not among them.
    options={"build": {"build_base": "build/setuptools"}},
    zip_safe=False,
)
