"""dns_netns.py: a network namespace whose system resolver asks a DNS
server of the test's own (dns_server.py), for the lookup tests.

`ip netns exec NS prog` bind-mounts every file of /etc/netns/NS/ over its
namesake in /etc for prog: a DnsNamespace writes a resolv.conf there that
names 127.0.0.1 (where its server listens, inside the namespace) and a
hosts file of its own, so the lookups of a program run that way go
through the whole of the system resolver (nsswitch, /etc/hosts, DNS)
without touching the host's configuration or network. The namespace, its
/etc/netns directory and the server are removed on exit, on any outcome;
names carry the process id, and a killed run's leftovers are swept by the
next one.
"""
import json
import os
import re
import shutil
import subprocess
import sys

from netns_util import CMD_TIMEOUT, IP, NFT, _alive, run, tool_env

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "dns_server.py")
CLIENT = os.path.join(HERE, "dns_client.py")
ETC_NETNS = "/etc/netns"
SERVER_LIFETIME = 120  # seconds: it ends by itself even if we are killed


def sweep_stale():
    try:
        names = [line.split()[0] for line in run([IP, "netns", "list"]).splitlines() if line]
    except (OSError, subprocess.SubprocessError):
        return
    for name in names:
        m = re.fullmatch(r"usdns-(\d+)x\d+", name)
        if m and not _alive(int(m.group(1))):
            subprocess.run([IP, "netns", "del", name], capture_output=True,
                           env=tool_env(), timeout=CMD_TIMEOUT)
            shutil.rmtree(os.path.join(ETC_NETNS, name), ignore_errors=True)


class DnsNamespace:
    """A namespace with loopback up, a resolv.conf naming the test's DNS
    server (resolver_timeout: resolv.conf's timeout, one attempt), a hosts
    file (hosts: its lines) and the server answering from zone."""

    _count = 0

    def __init__(self, zone, hosts="", resolver_timeout=2):
        DnsNamespace._count += 1
        self.ns = f"usdns-{os.getpid()}x{DnsNamespace._count}"
        self.etc = os.path.join(ETC_NETNS, self.ns)
        self.zone, self.hosts = zone, hosts
        self.resolver_timeout = resolver_timeout
        self.server = None

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
        sweep_stale()
        run([IP, "netns", "add", self.ns])
        run([IP, "-n", self.ns, "link", "set", "lo", "up"])
        os.makedirs(self.etc)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\n"
                    f"options timeout:{self.resolver_timeout} attempts:1\n")
        with open(os.path.join(self.etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost ip6-localhost\n" + self.hosts)
        self.server = subprocess.Popen(
            [IP, "netns", "exec", self.ns, sys.executable, SERVER,
             json.dumps(self.zone), str(SERVER_LIFETIME)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=tool_env())
        line = self.server.stdout.readline().decode().strip()
        if line != "ready":
            self.server.kill()
            err = self.server.stderr.read().decode(errors="replace")
            raise AssertionError(f"the DNS server did not start: {line!r} {err}")

    def _destroy(self):
        if self.server:
            if self.server.poll() is None:
                self.server.kill()  # our own child, by its pid
            try:
                self.server.wait(CMD_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
            for f in (self.server.stdin, self.server.stdout, self.server.stderr):
                f.close()
        subprocess.run([IP, "netns", "del", self.ns], capture_output=True,
                       env=tool_env(), timeout=CMD_TIMEOUT)
        shutil.rmtree(self.etc, ignore_errors=True)

    def nft(self, script):
        """Loads an nftables script in the namespace."""
        run([IP, "netns", "exec", self.ns, NFT, "-f", "-"], input=script)

    def client(self, *args, timeout=30, env=None):
        """Runs dns_client.py with args in the namespace, under this very
        interpreter and module (PYTHONPATH and an ASan run's LD_PRELOAD
        kept, env's variables added); its JSON result."""
        r = subprocess.run([IP, "netns", "exec", self.ns, sys.executable, CLIENT,
                            *map(str, args)], capture_output=True, text=True,
                           timeout=timeout, env=dict(os.environ, **(env or {})))
        if r.returncode != 0 or not r.stdout.strip():
            raise AssertionError(f"dns_client {args} failed ({r.returncode}): "
                                 f"{r.stdout}\n{r.stderr}")
        return json.loads(r.stdout.strip().splitlines()[-1])
