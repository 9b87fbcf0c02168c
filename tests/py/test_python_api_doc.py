"""test_python_api_doc.py: docs/python-api.md is the complete reference of
usocket and uselect, and cannot drift from the modules.

The page documents a name with a heading whose backticked span starts
with it (`### \\`socket.read($self, size=-1, /)\\``, `### \\`socket.family\\``,
`### \\`usocket.getaddrinfo(...)\\``), or, for constants, in the first
column of the table under `### Constants of usocket` / `### Constants of
uselect`. Every public name that the modules and their types (socket,
sockaddr, BufferedStream, poll) expose must be documented so, every name
documented so must exist, and a heading's signature must be the one that
inspect.signature() reads from the module."""
import os
import re
import types

import pytest

import uselect
import usocket

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(REPO, "docs", "python-api.md")
POLL = type(uselect.poll())
TYPES = {"socket": usocket.socket, "sockaddr": usocket.sockaddr,
         "BufferedStream": usocket.BufferedStream, "poll": POLL}
MODULES = {"usocket": usocket, "uselect": uselect}
try:  # built with a TLS engine
    import ussl
    MODULES["ussl"] = ussl
    TYPES.update(SSLContext=ussl.SSLContext, SSLSocket=ussl.SSLSocket)
except ImportError:
    ussl = None


def doc_text():
    with open(DOC, encoding="utf-8") as f:
        return f.read()


def documented():
    """{qualified name: signature text or None} from the page."""
    out = {}
    section = ""
    for line in doc_text().splitlines():
        m = re.match(r"#{2,4} (.*)", line)
        if m:
            section = m.group(1)
            for span in re.findall(r"`([^`]+)`", section):
                name = re.match(r"[\w.]+", span)
                if name and name.group(0).split(".")[0] in set(TYPES) | set(MODULES) \
                        and "." in name.group(0):
                    rest = span[name.end():]
                    out[name.group(0)] = rest if rest.startswith("(") else None
            continue
        c = re.match(r"Constants of (\w+)", section)
        if c and c.group(1) not in MODULES:
            c = None
        if c and line.startswith("|") and not set(line) <= set("|- "):
            for span in re.findall(r"`([A-Z_0-9]+)`", line.split("|")[1]):
                out[f"{c.group(1)}.{span}"] = None
    return out


def own_public(t):
    """A type's public names: attributes without a leading underscore, and
    the methods of its method table (__enter__, __exit__, __reduce__)."""
    names = {n for n in dir(t) if not n.startswith("_")}
    names |= {n for n, o in vars(t).items() if isinstance(o, types.MethodDescriptorType)}
    return names


def exposed():
    out = set()
    for mname, mod in MODULES.items():
        # A submodule (usocket.runner, once imported) has its own section.
        out |= {f"{mname}.{n}" for n in dir(mod) if not n.startswith("_")
                and not isinstance(getattr(mod, n), types.ModuleType)}
    out.add("usocket.__version__")
    for tname, t in TYPES.items():
        out |= {f"{tname}.{n}" for n in own_public(t)}
    return out


def test_the_parse_finds_the_reference():
    doc = documented()
    # Without these the comparisons below would prove nothing.
    assert {"usocket.getaddrinfo", "socket.read", "socket.family", "sockaddr.host",
            "BufferedStream.readline", "poll.ipoll", "uselect.select", "usocket.AF_INET",
            "uselect.POLLIN", "socket.__exit__"} <= set(doc)
    assert len(doc) >= 100


def test_every_exposed_name_is_documented():
    missing = sorted(exposed() - set(documented()))
    assert missing == [], "not documented in docs/python-api.md"


def test_every_documented_name_exists():
    # IPPROTO_SEC exists only with a TLS engine, as the page says.
    tls_only = set() if ussl else {"usocket.IPPROTO_SEC"}
    extra = sorted(set(documented()) - exposed() - tls_only)
    assert extra == [], "documented in docs/python-api.md but not in the modules"


def runtime_object(qualified):
    owner, name = qualified.split(".", 1)
    return getattr(MODULES.get(owner) or TYPES[owner], name)


@pytest.mark.parametrize("name,sig", sorted((n, s) for n, s in documented().items() if s),
                         ids=lambda v: v if isinstance(v, str) and "(" not in v else "")
def test_documented_signature_is_the_modules(name, sig):
    obj = runtime_object(name)
    assert obj.__text_signature__ == sig, f"{name}: the page says {sig}"


def test_the_page_never_points_outside_the_repository():
    # The contract the project was built to lives outside the repository,
    # where readers never see it.
    assert not re.search(r"\bSPEC\b|shared/", doc_text())
