"""netns_util.py: throw-away network namespaces for the network-fault tests.

A NetPair is two namespaces made for one test, joined by a veth pair:
"here", where the test's own usocket sockets live (made by a thread that
enters it with setns(2), so the test process itself never moves), and
"peer", where the peer program (netns_peer.py) runs and the nftables rules
and link changes act. The two ends are 198.51.100.1/30 and 198.51.100.2/30
(TEST-NET-2, documentation only) and no route leads anywhere else, so no
packet leaves the machine; the host's own namespace gets no interface,
address, route or rule. Names carry the process id and a counter, and the
namespaces are deleted when the pair is left, on any outcome.
"""
import ctypes
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading

IP = shutil.which("ip") or "/usr/sbin/ip"
NFT = shutil.which("nft") or "/usr/sbin/nft"
PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "netns_peer.py")
HERE_ADDR, PEER_ADDR, PREFIX = "198.51.100.1", "198.51.100.2", 30
PEER_PORT = 7000
MTU = 1500
CMD_TIMEOUT = 10  # any one ip/nft command
CLONE_NEWNET = 0x40000000


def tool_env():
    """The environment for ip, nft and the peer: without the sanitizer
    runtime of the ASan run (they are not built with it) or the module's
    path (the peer uses CPython's socket)."""
    env = dict(os.environ)
    for name in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONPATH"):
        env.pop(name, None)
    return env


def run(argv, input=None):
    """Runs a command with a time limit; its stdout, or CalledProcessError
    carrying stderr."""
    r = subprocess.run(argv, input=input, capture_output=True, text=True,
                       env=tool_env(), timeout=CMD_TIMEOUT)
    if r.returncode != 0:
        raise subprocess.CalledProcessError(r.returncode, argv, r.stdout, r.stderr)
    return r.stdout


def unavailable():
    """Why namespaces cannot be made here, or None when they can (then
    the leftovers of earlier runs that were killed are swept first)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not root: creating network namespaces needs CAP_SYS_ADMIN"
    for tool, pkg in ((IP, "iproute2"), (NFT, "nftables")):
        if not os.access(tool, os.X_OK):
            return f"no {os.path.basename(tool)} (Debian's {pkg}; scripts/deps.sh test)"
    sweep_stale()
    probe = f"usrel-probe-{os.getpid()}"
    try:
        run([IP, "netns", "add", probe])
    except subprocess.CalledProcessError as e:
        return f"`ip netns add` failed: {e.stderr.strip()}"
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"`ip netns add` failed: {e}"
    finally:
        subprocess.run([IP, "netns", "del", probe], capture_output=True,
                       env=tool_env(), timeout=CMD_TIMEOUT)
    return None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale():
    """Deletes namespaces named by this module for a process that no
    longer exists (a run ended by the hard hang guard cannot clean up);
    never touches any other namespace."""
    try:
        names = [line.split()[0] for line in run([IP, "netns", "list"]).splitlines() if line]
    except (OSError, subprocess.SubprocessError):
        return
    for name in names:
        m = re.fullmatch(r"usrel-(?:probe-(\d+)|(\d+)x\d+-(?:here|peer))", name)
        if m and not _alive(int(m.group(1) or m.group(2))):
            subprocess.run([IP, "netns", "del", name], capture_output=True,
                           env=tool_env(), timeout=CMD_TIMEOUT)


def _call_in_netns(ns, fn):
    """fn() run by a new thread that has entered namespace ns; a socket it
    makes belongs to ns for its whole life, whichever thread uses it."""
    libc = ctypes.CDLL(None, use_errno=True)
    box = {}

    def body():
        try:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns into {ns}: {os.strerror(err)}")
            finally:
                os.close(fd)
            box["result"] = fn()
        except BaseException as e:  # handed to the caller
            box["error"] = e

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(CMD_TIMEOUT)
    if "error" in box:
        raise box["error"]
    if "result" not in box:
        raise RuntimeError(f"making a socket in {ns} took over {CMD_TIMEOUT} s")
    return box["result"]


class Peer:
    """netns_peer.py running in the peer namespace; killed (by its own
    pid) when stopped."""

    def __init__(self, ns, mode, args):
        argv = [IP, "netns", "exec", ns, sys.executable, PEER_SCRIPT,
                PEER_ADDR, str(PEER_PORT), mode, *map(str, args)]
        # `ip netns exec` execs the program: this pid is the peer's own.
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=tool_env())
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:  # ends when the peer exits or is killed
            self.lines.put(line.decode(errors="replace").strip())
        self.lines.put(None)

    def _line(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the peer said nothing for {timeout} s") from None
        if line is None:
            self.proc.wait(CMD_TIMEOUT)  # its stdout is closed: it has ended
            err = self.proc.stderr.read().decode(errors="replace").strip()
            raise AssertionError(f"the peer ended early ({self.proc.returncode}): {err}")
        return line

    def wait_ready(self, timeout=CMD_TIMEOUT):
        line = self._line(timeout)
        assert line == "ready", line

    def result(self, timeout=CMD_TIMEOUT):
        """The JSON line the peer prints when its connection is over."""
        return json.loads(self._line(timeout))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass  # reported by nothing: the namespace's deletion follows
        self.reader.join(CMD_TIMEOUT)
        self.proc.stdout.close()
        self.proc.stderr.close()


class NetPair:
    """Two namespaces joined by a veth pair; a context manager that makes
    them on entry and deletes them (and stops any peer) on exit."""

    _count = 0

    def __init__(self):
        NetPair._count += 1
        tag = f"{os.getpid()}x{NetPair._count}"
        self.here_ns, self.peer_ns = f"usrel-{tag}-here", f"usrel-{tag}-peer"
        self.here_if, self.peer_if = f"ura{tag}", f"urb{tag}"  # at most 15 chars
        assert len(self.here_if) <= 15
        self.peers = []
        self.gso_limited = False

    def __enter__(self):
        try:
            self._create()
        except BaseException:
            self._destroy()
            raise
        return self

    def __exit__(self, *exc):
        self._destroy()

    def _create(self):
        run([IP, "netns", "add", self.here_ns])
        run([IP, "netns", "add", self.peer_ns])
        run([IP, "-n", self.here_ns, "link", "add", self.here_if, "type", "veth",
             "peer", "name", self.peer_if, "netns", self.peer_ns])
        for ns, dev, addr in ((self.here_ns, self.here_if, HERE_ADDR),
                              (self.peer_ns, self.peer_if, PEER_ADDR)):
            run([IP, "-n", ns, "addr", "add", f"{addr}/{PREFIX}", "dev", dev])
            run([IP, "-n", ns, "link", "set", "lo", "up"])
            run([IP, "-n", ns, "link", "set", dev, "mtu", str(MTU)])
            # One MTU-sized packet per skb: without it, the kernel hands
            # veth 64 KiB segments and a rule dropping "a packet" drops 44.
            try:
                run([IP, "-n", ns, "link", "set", dev, "gso_max_segs", "1"])
                self.gso_limited = True
            except subprocess.CalledProcessError:
                self.gso_limited = False  # an older iproute2: noted in the figures
            run([IP, "-n", ns, "link", "set", dev, "up"])

    def _destroy(self):
        for peer in self.peers:
            peer.stop()
        for ns in (self.here_ns, self.peer_ns):
            subprocess.run([IP, "netns", "del", ns], capture_output=True,
                           env=tool_env(), timeout=CMD_TIMEOUT)

    def socket(self, us, *args):
        """A usocket socket in the "here" namespace."""
        return _call_in_netns(self.here_ns, lambda: us.socket(*args))

    def peer(self, mode, *args):
        """Starts netns_peer.py in the peer namespace and waits until it
        listens on PEER_ADDR:PEER_PORT."""
        p = Peer(self.peer_ns, mode, args)
        self.peers.append(p)
        p.wait_ready()
        return p

    def nft(self, script):
        """Loads an nftables script in the peer namespace."""
        run([IP, "netns", "exec", self.peer_ns, NFT, "-f", "-"], input=script)

    def nft_counter(self, table, chain):
        """The packet count of the first counter in table's chain."""
        out = run([IP, "netns", "exec", self.peer_ns, NFT, "-j", "list", "chain",
                   "inet", table, chain])
        for item in json.loads(out)["nftables"]:
            for expr in item.get("rule", {}).get("expr", []):
                if "counter" in expr:
                    return expr["counter"]["packets"]
        return None

    def peer_link(self, state):
        """Sets the peer's end of the veth pair "up" or "down"."""
        run([IP, "-n", self.peer_ns, "link", "set", self.peer_if, state])

    def tcp_stats(self):
        """The "here" namespace's TCP counters (/proc/net/snmp) as a dict."""
        out = run([IP, "netns", "exec", self.here_ns, "cat", "/proc/net/snmp"])
        rows = [line.split()[1:] for line in out.splitlines() if line.startswith("Tcp:")]
        return dict(zip(rows[0], map(int, rows[1])))
