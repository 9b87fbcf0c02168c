"""test_signatures.py: help() and inspect.signature() show the parameters
of every function and method of usocket and uselect (not `(...)`), and the
type stubs sit beside the built modules, where editors look for them."""
import ast
import inspect
import os
import types

import pytest

import uselect
import usocket

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
try:  # built with a TLS engine
    import ussl
except ImportError:
    ussl = None

POLL = type(uselect.poll())
TYPES = [usocket.socket, usocket.sockaddr, usocket.BufferedStream, POLL]
MODULES = [usocket, uselect]
if ussl:
    TYPES += [ussl.SSLContext, ussl.SSLSocket]
    MODULES.append(ussl)
# The types that calling makes an object of.
CALLABLE_TYPES = {usocket.socket} | ({ussl.SSLContext} if ussl else set())


def module_callables():
    for mod in MODULES:
        for name in dir(mod):
            obj = getattr(mod, name)
            if not name.startswith("_") and callable(obj):
                yield f"{mod.__name__}.{name}", obj


def own_methods():
    """The methods of each type's method table (the slot wrappers, such as
    __repr__ or __del__, are CPython's, with CPython's docstrings)."""
    for t in TYPES:
        for name, obj in vars(t).items():
            if isinstance(obj, types.MethodDescriptorType):
                yield f"{t.__module__}.{t.__name__}.{name}", obj


ALL = list(module_callables()) + list(own_methods())


def test_the_walk_finds_the_methods():
    names = {n for n, _ in ALL}
    assert {"usocket.socket.read", "usocket.socket.__exit__", "usocket.BufferedStream.readline",
            "usocket.sockaddr.__reduce__", "uselect.poll.ipoll", "uselect.select",
            "usocket.getaddrinfo"} <= names
    assert len(names) >= 50


@pytest.mark.parametrize("name,obj", ALL, ids=[n for n, _ in ALL])
def test_every_callable_has_a_signature(name, obj):
    if isinstance(obj, type) and obj not in CALLABLE_TYPES:
        # Not made by calling them: getaddrinfo(), makefile() and
        # uselect.poll() make these, and calling the type is a TypeError.
        with pytest.raises(TypeError):
            obj()
        return
    sig = inspect.signature(obj)
    if inspect.ismethoddescriptor(obj):
        first = next(iter(sig.parameters.values()))
        assert (first.name, first.kind) == ("self", inspect.Parameter.POSITIONAL_ONLY), sig
    # help() shows the same, not (...).
    assert "(...)" not in inspect.getdoc(obj).splitlines()[0]


@pytest.mark.parametrize("call,want", [
    (lambda s: s.read, "(size=-1, /)"),
    (lambda s: s.readinto, "(buf, nbytes=None, /)"),
    (lambda s: s.readline, "(size=-1, /)"),
    (lambda s: s.listen, "(backlog=128, /)"),
    (lambda s: s.makefile, "(mode='rb', buffering=0, /)"),
    (lambda s: s.recv, "(bufsize, flags=0, /)"),
    (lambda s: s.sendto, "(data, /, *flags_address)"),
    (lambda s: s.getsockopt, "(level, option, /, *buflen)"),
    (lambda s: s.connect, "(address, /)"),
])
def test_bound_method_signatures(track, call, want):
    s = track(usocket.socket())
    assert str(inspect.signature(call(s))) == want


def test_signature_defaults_behave_as_the_omitted_argument(track, tcp_pair):
    """Each default shown is one the method takes, with the meaning of
    leaving the argument out."""
    a, b = tcp_pair
    b.settimeout(5)
    a.write(b"line one\nline two\nrest")
    assert b.readline(-1) == b"line one\n"
    buf = bytearray(9)
    assert b.readinto(buf, None) == 9 and bytes(buf) == b"line two\n"
    a.close()
    assert b.read(-1) == b"rest"
    s = track(usocket.socket())
    assert s.makefile("rb", 0) is s
    s.bind(("127.0.0.1", 0))
    s.listen(128)


def test_listen_default_backlog_is_the_one_shown():
    # The signature shows 128 for min(SOMAXCONN, 128).
    assert min(usocket.SOMAXCONN, 128) == 128


def test_register_default_mask_is_in_and_out():
    sig = inspect.signature(uselect.poll().register)
    assert sig.parameters["eventmask"].default == uselect.POLLIN | uselect.POLLOUT


# ---- stubs beside the modules -------------------------------------------

@pytest.mark.parametrize("mod", MODULES)
def test_stub_sits_beside_the_built_module(mod):
    here = os.path.dirname(mod.__file__)
    # A package's stub is its folder's __init__.pyi (usocket is one).
    stub = os.path.join(here, "__init__.pyi" if hasattr(mod, "__path__") else mod.__name__ + ".pyi")
    assert os.path.isfile(stub), f"no {os.path.basename(stub)} beside {mod.__file__}"
    with open(stub) as f, open(os.path.join(REPO, "python", mod.__name__ + ".pyi")) as g:
        assert f.read() == g.read(), "the stub beside the module is not python/'s"


def stub_names(path):
    """{name: [member names]} of a stub's top-level defs, classes and names."""
    with open(path) as f:
        tree = ast.parse(f.read())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)} | {
                n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
        elif isinstance(node, ast.FunctionDef):
            out[node.name] = set()
        elif isinstance(node, ast.AnnAssign):
            out[node.target.id] = set()
    return out


@pytest.mark.parametrize("mod", MODULES)
def test_stub_lists_every_public_name(mod):
    stubs = stub_names(os.path.join(REPO, "python", mod.__name__ + ".pyi"))
    # usocket.runner, once imported, is a submodule, not a name of the
    # C module's stub.
    public = {n for n in dir(mod) if not n.startswith("_")
              and not isinstance(getattr(mod, n), types.ModuleType)}
    assert public - set(stubs) == set(), "missing from the stub"
    assert {n for n in stubs if not n.startswith("_")} - public == set(), "stub names what is not there"
    for t in TYPES:
        if t.__module__ != mod.__name__:
            continue
        own = {n for n, o in vars(t).items()
               if not n.startswith("_") or n in ("__enter__", "__exit__")}
        assert own - stubs[t.__name__] == set(), f"{t.__name__}: missing from the stub"
