"""test_runner.py: `python3 -m usocket run script.py` runs MicroPython code
with usocket and uselect as its socket and select, while the standard
library in the same process keeps CPython's (asyncio, http.client, ssl).

Each test writes its MicroPython code into a scratch folder and runs it in
a child process, exactly as a user would: /usr/bin/python3 (the
interpreter running the tests) with PYTHONPATH naming the folder that
holds the usocket package, HOME pointed into the scratch folder and
MICROPYPATH unset unless the test sets it."""
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

import usocket

TIMEOUT = 15
PYDIR = os.path.dirname(os.path.abspath(usocket.__path__[0]))


def write(folder, files):
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def env_for(tmp_path, pythonpath=(), pydir=PYDIR, **extra):
    env = dict(os.environ)
    env.pop("MICROPYPATH", None)
    env.pop("PYTHONNOUSERSITE", None)
    env["HOME"] = str(tmp_path / "home")
    env["PYTHONPATH"] = os.pathsep.join([str(pydir), *map(str, pythonpath)])
    env.update(extra)
    return env


def python(argv, cwd, env):
    return subprocess.run([sys.executable, *argv], cwd=str(cwd), env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)


def run(tmp_path, *args, cwd=None, **kw):
    """`python3 -m usocket run args...`, in tmp_path unless cwd is given."""
    return python(["-m", "usocket", "run", *args], cwd or tmp_path, env_for(tmp_path, **kw))


def ok(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout.split("\n")


# ---- one process, two socket modules --------------------------------------

ECHO_AND_CPYTHON = """
import sys
import socket
import select

# MicroPython code: socket and select are usocket and uselect.
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(socket.getaddrinfo("127.0.0.1", 0)[0][-1])
srv.listen(1)
cli = socket.socket()
cli.settimeout(10)
cli.connect(srv.getsockname())
conn, _ = srv.accept()
conn.settimeout(10)
poller = select.poll()
poller.register(conn, select.POLLIN)
cli.write(b"ping\\n")
ready = poller.poll(10000)
conn.write(conn.readline().upper())
answer = cli.readline()
print("echo", type(cli).__module__, hasattr(cli, "readinto"), answer, ready[0][0] is conn)
for s in (cli, conn, srv):
    s.close()

# The standard library, in the same process: CPython's socket throughout.
import asyncio

cpython = sys.modules["socket"]


async def over_a_socketpair():
    a, b = cpython.socketpair()
    _, wa = await asyncio.open_connection(sock=a)
    rb, wb = await asyncio.open_connection(sock=b)
    wa.write(b"over asyncio\\n")
    await wa.drain()
    line = await asyncio.wait_for(rb.readline(), 10)
    wa.close()
    wb.close()
    return line


print("asyncio", cpython.__name__, asyncio.run(over_a_socketpair()))

import http.client
import http.server
import threading
import urllib.request


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
thread.start()
port = server.server_address[1]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c.connect()
kind = type(c.sock).__module__
c.request("GET", "/client")
r = c.getresponse()
print("http.client", r.status, r.read(), kind)
c.close()
with urllib.request.urlopen("http://127.0.0.1:%d/urllib" % port, timeout=10) as r:
    print("urllib", r.read())
server.shutdown()
server.server_close()
thread.join(10)

# MicroPython code's `import ssl` is ussl (test_ussl.py): CPython's own is
# the one the standard library imported.
ssl = http.client.ssl

ctx = ssl.create_default_context()
tls = ctx.wrap_socket(cpython.socket(), server_hostname="localhost")
print("ssl", ctx.verify_mode == ssl.CERT_REQUIRED, isinstance(tls, cpython.socket))
tls.close()
"""


def test_script_gets_usocket_while_asyncio_http_and_ssl_keep_cpythons(tmp_path):
    write(tmp_path, {"echo.py": ECHO_AND_CPYTHON})
    out = ok(run(tmp_path, "echo.py"))
    assert out[0] == "echo usocket True b'PING\\n' True"
    assert out[1] == "asyncio socket b'over asyncio\\n'"
    assert out[2] == "http.client 200 b'hello /client' socket"
    assert out[3] == "urllib b'hello /urllib'"
    assert out[4] == "ssl True True"


# ---- which code is MicroPython code ---------------------------------------

FORMS = {
    "forms.py": """
        import sys
        import socket as s
        from socket import socket as S, getaddrinfo
        from select import poll
        import usocket, uselect
        import importlib
        from importlib import import_module
        import importlib.util
        import helper, pkg.sub.deep, nspkg.mod
        from pkg import sub

        print("as", s.__name__, type(S()).__module__, getaddrinfo.__module__, type(poll()).__module__)
        print("u", usocket is s, uselect.__name__)
        print("__import__", __import__("socket").__name__, __import__("select").__name__)
        print("importlib", importlib.import_module("socket").__name__, import_module("select").__name__,
              importlib.util.find_spec("json").name)
        exec("import socket as e; print('exec', e.__name__)")
        print("beside", helper.socket.__name__, helper.__name__)
        print("nested", pkg.sub.deep.KINDS, sub.FROM_DEEP, pkg.KIND)
        print("namespace", nspkg.mod.socket.__name__)
        import socketserver, json
        print("stdlib", socketserver.socket.__name__, sys.modules["socket"].__name__)

        if __name__ == "__main__":
            print("main", __name__, sys.argv)
    """,
    "helper.py": "import socket\n",
    "pkg/__init__.py": "import socket\nKIND = socket.__name__\n",
    "pkg/sub/__init__.py": "from . import deep\nFROM_DEEP = deep.KINDS\n",
    "pkg/sub/deep.py": """
        from socket import socket as S
        import select as sel
        KINDS = (type(S()).__module__, sel.__name__, __name__)
    """,
    "nspkg/mod.py": "import socket\n",
}


def test_every_import_form_in_the_script_and_its_modules_gets_usocket(tmp_path):
    write(tmp_path / "app", FORMS)
    out = ok(run(tmp_path, "app/forms.py", "one", "--two"))
    assert out[:-1] == [
        "as usocket usocket usocket uselect",
        "u True uselect",
        "__import__ usocket uselect",
        "importlib usocket uselect json",
        "exec usocket",
        "beside usocket helper",
        "nested ('usocket', 'uselect', 'pkg.sub.deep') ('usocket', 'uselect', 'pkg.sub.deep') usocket",
        "namespace usocket",
        "stdlib socket socket",
        "main __main__ ['app/forms.py', 'one', '--two']",
    ]


def test_no_bytecode_cache_is_left_in_micropython_folders(tmp_path):
    # A MicroPython project's folders are copied to boards as they are.
    write(tmp_path / "app", FORMS)
    env = env_for(tmp_path)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    ok(python(["-m", "usocket", "run", "app/forms.py"], tmp_path, env))
    assert not list((tmp_path / "app").rglob("__pycache__"))
    # The same imports by CPython itself do leave one.
    ok(python(["-c", "import helper"], tmp_path / "app", env))
    assert list((tmp_path / "app").rglob("__pycache__"))


SEARCH = """
import sys
for name in sys.argv[1:]:
    try:
        m = __import__(name)
        print(name, m.WHERE, m.socket.__name__)
    except ImportError as e:
        print(name, "missing")
"""


def mod(where):
    return "import socket\nWHERE = %r\n" % where


def test_micropypath_entries_are_searched_after_the_scripts_folder(tmp_path):
    write(tmp_path, {"app/s.py": SEARCH, "app/first.py": mod("app"), "a/first.py": mod("a"),
                     "a/second.py": mod("a"), "home/b/second.py": mod("b"), "home/b/third.py": mod("b"),
                     "cwd/fourth.py": mod("cwd")})
    path = ":".join([str(tmp_path / "a"), "~/b", ".frozen", ""])
    out = ok(run(tmp_path, str(tmp_path / "app/s.py"), "first", "second", "third", "fourth",
                 cwd=tmp_path / "cwd", MICROPYPATH=path))
    # "" is the current folder, as in MicroPython.
    assert out[:4] == ["first app usocket", "second a usocket", "third b usocket", "fourth cwd usocket"]


def test_without_micropypath_micropythons_default_is_searched(tmp_path):
    write(tmp_path, {"s.py": SEARCH, "home/.micropython/lib/homemod.py": mod("home")})
    assert ok(run(tmp_path, "s.py", "homemod"))[0] == "homemod home usocket"
    # An empty MICROPYPATH leaves only the script's folder, as MicroPython.
    assert ok(run(tmp_path, "s.py", "homemod", MICROPYPATH=""))[0] == "homemod missing"


def test_pythonpath_is_micropython_code_but_site_packages_never(tmp_path):
    usersite = python(["-c", "import site; print(site.getusersitepackages())"], tmp_path,
                      env_for(tmp_path)).stdout.strip()
    assert usersite.startswith(str(tmp_path / "home")), usersite
    write(tmp_path, {"s.py": SEARCH, "lib/pymod.py": mod("lib"),
                     os.path.join(usersite, "sitemod.py"): mod("site")})
    # Named on PYTHONPATH or not, a site-packages folder is CPython's.
    out = ok(run(tmp_path, "s.py", "pymod", "sitemod", pythonpath=[tmp_path / "lib", usersite]))
    assert out[:2] == ["pymod lib usocket", "sitemod site socket"]


def test_under_python3_E_pythonpath_is_ignored_as_cpython_ignores_it(tmp_path):
    write(tmp_path, {"s.py": SEARCH, "lib/pymod.py": mod("lib")})
    # usocket itself is found from the current folder, as -m finds it.
    proc = python(["-E", "-m", "usocket", "run", str(tmp_path / "s.py"), "pymod"], PYDIR,
                  env_for(tmp_path, pythonpath=[tmp_path / "lib"]))
    assert ok(proc)[0] == "pymod missing"


def test_a_stdlib_name_on_micropypath_stays_cpythons(tmp_path):
    # micropython-lib ships its own logging, datetime...: on MICROPYPATH
    # they must not replace CPython's for asyncio and the standard library.
    write(tmp_path, {"s.py": """
        import logging, asyncio, helper
        print(hasattr(logging, "LoggerAdapter"), helper.WHERE, helper.socket.__name__)
    """, "lib/logging.py": "WHERE = 'mine'\n", "lib/helper.py": mod("lib")})
    assert ok(run(tmp_path, "s.py", MICROPYPATH=str(tmp_path / "lib")))[0] == "True lib usocket"


def test_a_stdlib_name_in_the_scripts_folder_shadows_as_in_python3(tmp_path):
    # There CPython itself would take it first, for everyone; it is then
    # MicroPython code like the rest of the folder.
    write(tmp_path, {"s.py": "import json\nprint(json.WHERE, json.socket.__name__)\n",
                     "json.py": mod("mine")})
    assert ok(run(tmp_path, "s.py"))[0] == "mine usocket"


# ---- as python3 script.py -------------------------------------------------

@pytest.mark.parametrize("body", [
    "def f():\n    raise ValueError('boom')\n\nif __name__ == '__main__':\n    f()\n",
    "import helper\nhelper.fail()\n",
    "import broken\n",
    "x = (\n",
    "import sys\nsys.exit(3)\n",
    "import sys\nsys.exit('gone')\n",
    "raise KeyboardInterrupt\n",
])
def test_exit_status_and_traceback_are_python3s(tmp_path, body):
    write(tmp_path, {"s.py": body, "helper.py": "def fail():\n    return 1 / 0\n",
                     "broken.py": "import socket\nraise RuntimeError('while importing')\n"})
    mine = run(tmp_path, "s.py")
    theirs = python(["s.py"], tmp_path, env_for(tmp_path))
    assert (mine.returncode, mine.stderr) == (theirs.returncode, theirs.stderr)
    assert theirs.returncode != 0


def test_ctrl_c_ends_the_script_as_python3s(tmp_path):
    write(tmp_path, {"s.py": "import time\nprint('ready', flush=True)\ntime.sleep(30)\n"})
    for argv in (["-m", "usocket", "run", "s.py"], ["s.py"]):
        p = subprocess.Popen([sys.executable, *argv], cwd=str(tmp_path), env=env_for(tmp_path),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert p.stdout.readline() == "ready\n"
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=TIMEOUT)
        finally:
            p.kill()
            p.wait()
        assert p.returncode == -signal.SIGINT
        assert err.startswith("Traceback") and err.endswith("KeyboardInterrupt\n"), err
        assert "usocket" not in err, err


@pytest.mark.parametrize("args,says", [
    ([], "no command"),
    (["frob"], "unknown command"),
    (["run"], "needs a script"),
    (["run", "-x", "s.py"], "unknown option"),
    (["run", "-m"], "needs a module"),
])
def test_bad_usage_prints_the_usage_and_exits_2(tmp_path, args, says):
    proc = python(["-m", "usocket", *args], tmp_path, env_for(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: python3 -m usocket run script.py"), proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_a_missing_script_says_so_and_exits_2(tmp_path):
    proc = run(tmp_path, "nowhere.py")
    assert proc.returncode == 2
    assert "can't open file" in proc.stderr and "nowhere.py" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


def test_help_goes_to_stdout(tmp_path):
    proc = python(["-m", "usocket", "--help"], tmp_path, env_for(tmp_path))
    assert proc.returncode == 0 and proc.stdout.startswith("usage:"), proc


def test_run_m_runs_a_micropython_module_as_main(tmp_path):
    write(tmp_path, {"tool.py": "import sys, socket\nprint(__name__, sys.argv[1:], socket.__name__)\n"
                                "print(sys.argv[0] == __file__, __file__.endswith('/tool.py'))\n",
                     "app/__init__.py": "", "app/__main__.py": "import select\nprint(__name__, select.__name__)\n"})
    assert ok(run(tmp_path, "-m", "tool", "x"))[:2] == ["__main__ ['x'] usocket", "True True"]
    assert ok(run(tmp_path, "-m", "app"))[0] == "__main__ uselect"
    proc = run(tmp_path, "-m", "json.tool")  # the standard library's is not MicroPython code
    assert proc.returncode == 1 and "No module named json.tool" in proc.stderr, proc.stderr


# ---- the function ---------------------------------------------------------

EMBED = """
import socket
import sys
from usocket import runner

before = (list(sys.argv), sys.modules["__main__"], list(sys.meta_path))
g = runner.run("s.py", ["a"])
print(g["KIND"], g["ARGV"], g["NAME"])
print((list(sys.argv), sys.modules["__main__"], list(sys.meta_path)) == before,
      sys.modules["socket"].__name__)
try:
    runner.run("s.py", ["raise"])
except ValueError as e:
    print("raised", e)
"""


def test_run_function_runs_a_script_and_puts_sys_back(tmp_path):
    write(tmp_path, {"embed.py": EMBED, "s.py": """
        import sys, socket
        KIND, ARGV, NAME = socket.__name__, sys.argv, __name__
        if sys.argv[1:] == ["raise"]:
            raise ValueError("as asked")
    """})
    out = ok(python(["embed.py"], tmp_path, env_for(tmp_path)))
    assert out[:3] == ["usocket ['s.py', 'a'] __main__", "True socket", "raised as asked"]


def test_a_projects_own_uselect_or_ussl_shim_is_not_usockets(tmp_path):
    # MicroPython's built-in modules win over such files; so do ours.
    write(tmp_path, {"s.py": "import select, ssl\nprint(select.__name__, select.__file__ != %r, "
                     "ssl.__name__, ssl.__file__ != %r)\n"
                     % (str(tmp_path / "uselect.py"), str(tmp_path / "ussl.py")),
                     "uselect.py": "", "ussl.py": ""})
    # ssl is usocket's ussl where it is built (with a TLS engine), else
    # CPython's: never the project's file either way.
    ssl_name = "ussl" if os.path.exists(os.path.join(PYDIR, "ussl.py")) else "ssl"
    assert ok(run(tmp_path, "s.py"))[0] == "uselect True %s True" % ssl_name


def test_tls_names_map_once_usockets_ussl_exists(tmp_path):
    # A copy of the folder that holds usocket and uselect, with a ussl in it.
    home = tmp_path / "pydir"
    shutil.copytree(PYDIR, home, ignore=shutil.ignore_patterns("__pycache__", "ussl.py*"))
    write(tmp_path, {"s.py": "import ssl, tls, ussl\nprint(ssl.__name__, tls.__name__, ussl is ssl)\n",
                     "plain/tls.py": "", "plain/ussl.py": ""})
    # Without it, ssl is CPython's and tls an ordinary module, as is a ussl
    # found elsewhere.
    assert ok(run(tmp_path, "s.py", pythonpath=[tmp_path / "plain"], pydir=home))[0] == "ssl tls False"
    write(home, {"ussl.py": "WHERE = 'usocket'\n"})
    assert ok(run(tmp_path, "s.py", pythonpath=[tmp_path / "plain"], pydir=home))[0] == "ussl ussl True"
