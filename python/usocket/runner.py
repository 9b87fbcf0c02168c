"""usocket.runner: runs MicroPython code on CPython, where the code's
`socket` and `select` are usocket and uselect while the standard library
and installed packages, in the same process, keep CPython's own.

"MicroPython code" is the script (or `-m` module) and every module found
on the MicroPython search path: the script's folder, then MICROPYPATH's
entries (MicroPython's default when it is unset), then PYTHONPATH's
entries that are not CPython's own library folders. Such modules are
loaded by a finder placed before CPython's path finder, with builtins of
their own whose __import__ maps the names of NAMES; sys.modules is never
changed, so `socket` there stays CPython's for asyncio, ssl, http.client.
docs/python-api.md gives the rules and the reasons."""
import builtins
import importlib
import importlib.machinery
import importlib.util
import os
import site
import sys
import sysconfig
import types

__all__ = ["run", "run_module", "main"]

# The one table of what MicroPython code gets for a name it imports: the
# modules of the folder that holds the usocket package. TLS_NAMES applies
# when usocket's TLS module `ussl` is there (built with a TLS engine).
NAMES = {"socket": "usocket", "usocket": "usocket", "select": "uselect", "uselect": "uselect"}
TLS_NAMES = {"ssl": "ussl", "ussl": "ussl", "tls": "ussl"}

# MicroPython's unix port searches this when MICROPYPATH is unset
# (ports/unix/mpconfigport.h). ".frozen" names the modules frozen into a
# MicroPython binary; CPython has none, so that entry is skipped.
DEFAULT_MICROPYPATH = ".frozen:~/.micropython/lib:/usr/lib/micropython"

USAGE = """usage: python3 -m usocket run script.py [args...]
       python3 -m usocket run -m module [args...]

Runs MicroPython code on CPython: the script and the modules found beside
it, on MICROPYPATH and on PYTHONPATH get usocket and uselect when they
import socket or select; the standard library keeps CPython's own.
"""


def micropython_path(script_dir, environ=None):
    """(the folders whose modules are MicroPython code, in search order;
    those of them that CPython searches before its standard library: the
    script's folder and PYTHONPATH's)."""
    env = os.environ if environ is None else environ
    path = [script_dir]
    ahead = {script_dir}
    raw = env.get("MICROPYPATH", DEFAULT_MICROPYPATH)
    # As MicroPython's main.c: a leading empty entry is the script's folder,
    # already first; any other empty entry is the current folder.
    entries = raw.split(":") if raw else []
    if entries and entries[0] == "":
        entries = entries[1:]
    home = env.get("HOME")
    for entry in entries:
        if entry == ".frozen":
            continue
        if entry.startswith("~/") and home:
            entry = home + entry[1:]
        path.append(os.path.abspath(entry))
    own = cpython_folders()
    # Under `python3 -E` CPython ignores PYTHONPATH; so does the runner.
    pythonpath = "" if environ is None and sys.flags.ignore_environment else env.get("PYTHONPATH", "")
    for entry in filter(None, pythonpath.split(os.pathsep)):
        real = os.path.realpath(entry)
        if not any(real == d or real.startswith(d + os.sep) for d in own):
            path.append(os.path.abspath(entry))
            ahead.add(path[-1])
    return path, ahead


def cpython_folders():
    """CPython's standard library and site-packages folders, resolved."""
    dirs = [sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    try:
        dirs += site.getsitepackages() + [site.getusersitepackages()]
    except AttributeError:  # site's functions are missing in some virtualenvs
        pass
    dirs += [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]
    return {os.path.realpath(d) for d in dirs if d}


class _Loader(importlib.machinery.SourceFileLoader):
    """Loads a source file as MicroPython code: the module gets the
    runner's builtins before its code runs. Only module creation is
    replaced, so tracebacks show no frame of the runner."""

    def __init__(self, fullname, path, runner):
        super().__init__(fullname, path)
        self._runner = runner

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__builtins__ = self._runner.builtins_dict
        self._runner.loaded.add(spec.name)
        return module

    def set_data(self, path, data, *, _mode=0o666):
        """Writes no bytecode cache: a MicroPython project's folders are
        copied to boards as they are, and __pycache__ would go with them."""


class _Importlib(types.ModuleType):
    """What MicroPython code sees as importlib: CPython's, with an
    import_module that maps names as its import statements do."""

    def __getattr__(self, name):
        return getattr(importlib, name)


class Runner:
    """The finder (on sys.meta_path) and the builtins of MicroPython code."""

    def __init__(self, path, ahead, names):
        self.path = list(path)
        # A standard library name is looked up only in these folders, which
        # CPython searches first anyway (they shadow the standard library
        # for everyone, runner or not): on MICROPYPATH, a MicroPython copy
        # (micropython-lib's logging, datetime...) would replace CPython's
        # for asyncio and the rest too.
        self.stdlib_path = [f for f in self.path if f in ahead]
        self.names = dict(names)  # name -> module object
        self.loaded = set()  # names of the modules loaded as MicroPython code
        self._finders = {}
        self.builtins = types.ModuleType("builtins")
        self.builtins_dict = vars(self.builtins)
        self.builtins_dict.update(vars(builtins))
        self.builtins_dict["__import__"] = self._import
        self._importlib = _Importlib("importlib", importlib.__doc__)
        self._importlib.import_module = self._import_module
        self.stdlib = set(getattr(sys, "stdlib_module_names", ())) | set(sys.builtin_module_names)

    # -- the names -----------------------------------------------------

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            target = self.names.get(name)
            if target is not None:
                return target
            if name == "importlib" or (name.startswith("importlib.") and not fromlist):
                builtins.__import__(name, globals, locals, fromlist, 0)
                return self._importlib
        return builtins.__import__(name, globals, locals, fromlist, level)

    def _import_module(self, name, package=None):
        target = self.names.get(name)
        if target is not None:
            return target
        return importlib.import_module(name, package)

    # -- the finder ----------------------------------------------------

    def _file_finder(self, folder):
        finder = self._finders.get(folder)
        if finder is None:
            loader = (lambda fullname, path: _Loader(fullname, path, self), importlib.machinery.SOURCE_SUFFIXES)
            finder = self._finders[folder] = importlib.machinery.FileFinder(folder, loader)
        return finder

    def find_spec(self, fullname, path=None, target=None):
        if path is None:
            if fullname in self.names:
                return None
            folders = self.stdlib_path if fullname in self.stdlib else self.path
        elif fullname.rpartition(".")[0] in self.loaded:
            folders = list(path)
        else:
            return None
        namespace = []
        for folder in folders:
            spec = self._file_finder(folder).find_spec(fullname, target)
            if spec is None:
                continue
            if spec.loader is not None:
                return spec
            namespace += spec.submodule_search_locations or []
        if namespace:
            # A folder without __init__.py, as micropython-lib installs
            # umqtt: a package of MicroPython modules.
            spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
            spec.submodule_search_locations = namespace
            self.loaded.add(fullname)
            return spec
        return None

    def invalidate_caches(self):
        for finder in self._finders.values():
            finder.invalidate_caches()

    def install(self):
        """Puts the finder just before CPython's path finder."""
        at = len(sys.meta_path)
        for i, finder in enumerate(sys.meta_path):
            if finder is importlib.machinery.PathFinder:
                at = i
                break
        sys.meta_path.insert(at, self)

    def uninstall(self):
        if self in sys.meta_path:
            sys.meta_path.remove(self)

    # -- __main__ ------------------------------------------------------

    def exec_main(self, code, attrs):
        """Runs code as __main__; returns the module's namespace."""
        main = types.ModuleType("__main__")
        vars(main).update(attrs)
        main.__builtins__ = self.builtins
        sys.modules["__main__"] = main
        exec(code, vars(main))
        return vars(main)


# The folder that holds the usocket package, and uselect beside it.
HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def own_module(name):
    """usocket's module name, loaded from HOME, or None if HOME has none.
    Not found through sys.path: a module of that name elsewhere (a
    MicroPython project's own uselect.py shim beside its script) is not
    usocket's, as MicroPython's built-in modules win over such files."""
    module = sys.modules.get(name)
    if module is not None and os.path.dirname(getattr(module, "__file__", None) or "") == HOME:
        return module
    spec = importlib.machinery.PathFinder.find_spec(name, [HOME])
    if spec is None:
        return None
    module = importlib.util.module_from_spec(spec)
    # Registered unless the name is another module's already.
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


def names_table():
    """{name: module} for MicroPython code: NAMES, and TLS_NAMES when
    usocket's ussl exists."""
    table = dict(NAMES)
    if importlib.machinery.PathFinder.find_spec("ussl", [HOME]) is not None:
        table.update(TLS_NAMES)
    modules = {}
    for target in set(table.values()):
        modules[target] = sys.modules["usocket"] if target == "usocket" else own_module(target)
        if modules[target] is None:
            raise ImportError("usocket's %s is not in %s" % (target, HOME), name=target)
    return {name: modules[target] for name, target in table.items()}


class _Saved:
    """sys state a run changes, put back when run() returns."""

    def __init__(self):
        self.argv = sys.argv
        self.main = sys.modules.get("__main__")

    def restore(self, runner):
        runner.uninstall()
        sys.argv = self.argv
        if self.main is not None:
            sys.modules["__main__"] = self.main


def _script_code(path):
    with open(path, "rb") as f:
        source = f.read()
    return compile(source, path, "exec", dont_inherit=True)


def _start(script_dir, environ):
    runner = Runner(*micropython_path(script_dir, environ), names_table())
    runner.install()
    return runner


def run(path, argv=None, environ=None):
    """Runs the script at path as MicroPython code named __main__, with
    sys.argv = [path] + argv; returns its global namespace. Exceptions
    propagate; sys.argv, __main__ and sys.meta_path are put back."""
    path = os.fspath(path)
    full = os.path.abspath(path)
    saved = _Saved()
    code = _script_code(full)
    runner = _start(os.path.dirname(os.path.realpath(full)), environ)
    try:
        sys.argv = [path] + list(argv or [])
        loader = importlib.machinery.SourceFileLoader("__main__", full)
        return runner.exec_main(code, {"__file__": full, "__loader__": loader, "__spec__": None,
                                       "__package__": None, "__cached__": None})
    finally:
        saved.restore(runner)


def _module_code(runner, name):
    """(spec, code) of the MicroPython module name, or of name.__main__
    for a package, as `python3 -m` picks them."""
    spec = importlib.util.find_spec(name)
    if spec is None or not (isinstance(spec.loader, _Loader) or spec.name in runner.loaded):
        raise ImportError("No module named %s on the MicroPython path" % name, name=name)
    if spec.submodule_search_locations is not None:
        return _module_code(runner, name + ".__main__")
    return spec, spec.loader.get_code(spec.name)


def run_module(name, argv=None, environ=None):
    """Runs the MicroPython module name (found from the current folder,
    then as run() searches) as __main__, with sys.argv = [its file] +
    argv; returns its global namespace."""
    saved = _Saved()
    runner = _start(os.getcwd(), environ)
    try:
        spec, code = _module_code(runner, name)
        sys.argv = [spec.origin] + list(argv or [])
        return runner.exec_main(code, {"__file__": spec.origin, "__loader__": spec.loader,
                                       "__spec__": spec, "__package__": spec.parent,
                                       "__cached__": spec.cached})
    finally:
        saved.restore(runner)


# -- the command line ------------------------------------------------------


def _usage(error):
    sys.stderr.write(USAGE + "\npython3 -m usocket: error: %s\n" % error)
    return 2


def _user_traceback(tb, code=None):
    """tb as `python3 script.py` would show it: from code's frame on (when
    code is given) and without the runner's own frames (its __import__ sits
    between an import statement and the module it runs)."""
    keep = []
    started = code is None
    while tb is not None:
        started = started or tb.tb_frame.f_code is code
        if started and tb.tb_frame.f_code.co_filename != __file__:
            keep.append(tb)
        tb = tb.tb_next
    out = None
    for t in reversed(keep):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def _trim(exc, code, seen):
    """Trims the tracebacks of exc and of the exceptions chained to it;
    the hook prints each exception's own __traceback__."""
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc.with_traceback(_user_traceback(exc.__traceback__, code))
        _trim(exc.__cause__, None, seen)
        exc, code = exc.__context__, None


def _die_by_sigint():
    """As CPython ends after an uncaught KeyboardInterrupt: killed by
    SIGINT, once threads are joined and atexit handlers have run."""
    import signal

    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)


def main(args):
    """`python3 -m usocket` with args (sys.argv[1:]); returns the exit
    status for a usage error, else exits as `python3 script.py` would."""
    if args and args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    if not args:
        return _usage("no command: the command is run")
    if args[0] != "run":
        return _usage("unknown command %r: the command is run" % args[0])
    args = args[1:]
    if not args:
        return _usage("run needs a script (or -m module)")
    if args[0] == "-m":
        if len(args) < 2:
            return _usage("-m needs a module name")
        what, name, rest = "module", args[1], args[2:]
    elif args[0].startswith("-") and args[0] != "-":
        return _usage("unknown option %r" % args[0])
    else:
        what, name, rest = "script", args[0], args[1:]

    import atexit

    interrupted = []
    # Registered before the user code's handlers, so it runs after them.
    atexit.register(lambda: interrupted and _die_by_sigint())
    # The module running usocket/__main__.py, replaced as __main__ by the
    # user code's and still needed: its code is on the stack.
    launcher = sys.modules.get("__main__")
    if what == "script":
        full = os.path.abspath(name)
        try:
            code = _script_code(full)
        except OSError as e:
            sys.stderr.write("python3 -m usocket run: can't open file %r: [Errno %d] %s\n"
                             % (full, e.errno, e.strerror))
            return 2
        except SyntaxError as e:
            sys.excepthook(type(e), e, e.with_traceback(None).__traceback__)
            return 1
        # As `python3 script.py`: the script's folder comes first on
        # sys.path instead of the current one.
        sys.path[0] = os.path.dirname(os.path.realpath(full))
        runner = _start(sys.path[0], None)
        sys.argv = [name] + rest
        loader = importlib.machinery.SourceFileLoader("__main__", full)
        attrs = {"__file__": full, "__loader__": loader, "__spec__": None,
                 "__package__": None, "__cached__": None}
    else:
        runner = _start(os.getcwd(), None)
        try:
            spec, code = _module_code(runner, name)
        except ImportError as e:
            sys.stderr.write("python3 -m usocket run: %s\n" % e)
            return 1
        sys.argv = [spec.origin] + rest
        attrs = {"__file__": spec.origin, "__loader__": spec.loader, "__spec__": spec,
                 "__package__": spec.parent, "__cached__": spec.cached}
    runner.launcher = launcher
    try:
        runner.exec_main(code, attrs)
    except SystemExit:
        raise
    except BaseException as e:
        _trim(e, code, set())
        sys.excepthook(type(e), e, e.__traceback__)
        if isinstance(e, KeyboardInterrupt):
            interrupted.append(True)
        return 1
    return 0
