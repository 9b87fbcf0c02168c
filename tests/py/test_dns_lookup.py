"""test_dns_lookup.py: name lookups against a real resolver that
misbehaves: the system resolver of a throw-away namespace asks a DNS
server of the test's own (dns_netns.py), which answers, answers slowly,
answers with several addresses, or never answers. Each check runs
dns_client.py in the namespace and asserts what its user sees."""
import os

import pytest

from netns_util import unavailable
from timing import SLACK, late

WHY = unavailable()
pytestmark = pytest.mark.skipif(WHY is not None, reason=WHY or "")

SLOW = 0.3  # how late the server answers slow.test
ZONE = {
    "one.test": {"a": ["192.0.2.10"]},
    "multi.test": {"a": ["192.0.2.1", "192.0.2.2"],
                   "aaaa": ["2001:db8::1", "2001:db8::2"]},
    "slow.test": {"a": ["192.0.2.20"], "delay": SLOW},
    "silent.test": {"silent": True},
}
HOSTS = "192.0.2.77 fromhosts.test\n"
RESOLVER_TIMEOUT = 2  # resolv.conf's: how long glibc waits for silent.test


@pytest.fixture(scope="module")
def dns():
    from dns_netns import DnsNamespace

    with DnsNamespace(ZONE, HOSTS, RESOLVER_TIMEOUT) as d:
        yield d


def addrs(result):
    assert "error" not in result, result
    return sorted({a for _, a in result["addrs"]})


def test_lookup_answered_by_the_server(dns):
    assert addrs(dns.client("lookup", "one.test", 5)) == ["192.0.2.10"]


def test_lookup_without_timeout_still_resolves(dns):
    assert addrs(dns.client("lookup", "one.test", "none")) == ["192.0.2.10"]


def test_lookup_reads_the_hosts_file(dns):
    r = dns.client("lookup", "fromhosts.test", 1)
    assert addrs(r) == ["192.0.2.77"]


def test_lookup_several_a_and_aaaa_records(dns):
    r = dns.client("lookup", "multi.test", 5)
    assert addrs(r) == ["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"]
    assert {f for f, _ in r["addrs"]} == {2, 10}  # AF_INET, AF_INET6


def test_lookup_unknown_name_is_the_resolvers_error(dns):
    r = dns.client("lookup", "nosuch.test", 5)
    assert r["error"] == "OSError" and r["errno"] < 0, r  # EAI_NONAME, negative


def test_slow_answer_within_the_timeout_is_taken(dns):
    r = dns.client("lookup", "slow.test", SLOW + 2)
    assert addrs(r) == ["192.0.2.20"]
    assert r["elapsed"] >= SLOW - 0.01


def test_slow_answer_past_the_timeout_times_out(dns):
    r = dns.client("lookup", "slow.test", 0.1)
    assert r["error"] == "TimeoutError" and r["errno"] == 110, r
    assert 0.1 - 0.005 <= r["elapsed"] <= late(0.1 + 0.05), r


def test_silent_server_times_out_within_timeout(dns):
    timeout = 0.3
    r = dns.client("lookup", "silent.test", timeout)
    assert r["error"] == "TimeoutError" and r["errno"] == 110, r  # ETIMEDOUT
    assert timeout - 0.005 <= r["elapsed"] <= late(timeout + 0.05), r
    # Far below what the system resolver itself would wait.
    assert r["elapsed"] < RESOLVER_TIMEOUT


def test_ctrl_c_ends_a_lookup_without_timeout(dns):
    r = dns.client("sigint", "silent.test", 0.3)
    assert r.get("interrupted") is True, r
    assert r["late"] <= late(0.1), r


def test_abandoned_lookups_leave_nothing_behind(dns):
    from dns_netns import DnsNamespace

    # A resolver that gives up after 1 s: the pool's threads, all stuck on
    # silent.test meanwhile, must come back within that plus their idle
    # time.
    with DnsNamespace(ZONE, HOSTS, 1) as quick:
        limit = 1 * 2 + 2 + 2 * SLACK + 2  # two attempts' worth, idle, slack
        # Under ASan, freed memory would wait in its quarantine, counted
        # in the RSS as if leaked.
        asan = os.environ.get("ASAN_OPTIONS")
        env = {"ASAN_OPTIONS": asan + ":quarantine_size_mb=0"} if asan else {}
        r = quick.client("abandon", "silent.test", 10000, 0.0001, limit,
                         timeout=60, env=env)
    assert r["timeouts"] == 10000, r
    # Bounded while they run: the resolver pool's threads at most.
    assert r["peak_threads"] <= r["base_threads"] + 8, r
    # And nothing left once the system resolver has given up on them.
    assert r["threads"] == r["base_threads"], r
    assert r["fds"] == r["base_fds"], r
    # A lookup's own memory is over 100 bytes: 10,000 of them would be
    # more than a megabyte.
    assert r["rss_growth_kib"] < 512, r


# ---- create_connection: RFC 8305 against a name with A and AAAA ----------

DROP_V6_SYN = """
table inet usdns {
  chain input {
    type filter hook input priority 0;
    ip6 daddr ::1 tcp dport 7000 tcp flags syn drop
    tcp dport 7001 tcp flags syn drop
  }
}
"""
DELAY = 0.25  # RFC 8305's Connection Attempt Delay, usocket's default


@pytest.fixture(scope="module")
def dual():
    from dns_netns import DnsNamespace

    zone = {"dual.test": {"a": ["127.0.0.1"], "aaaa": ["::1"]}}
    with DnsNamespace(zone) as d:
        d.nft(DROP_V6_SYN)
        yield d


def test_create_connection_prefers_ipv6_when_it_answers(dual):
    r = dual.client("connect", "dual.test", 7002, 5)
    assert r.get("family") == "v6", r
    assert r["elapsed"] < DELAY, r  # no wait: the first attempt won
    assert r["timeout"] == 5.0 and r["fds_left"] == 0, r


def test_create_connection_falls_back_to_ipv4_after_the_delay(dual):
    # IPv6 is tried first and its SYN vanishes: IPv4 starts after the
    # delay, while IPv6 is still pending, and wins; not after an IPv6
    # timeout.
    r = dual.client("connect", "dual.test", 7000, 5)
    assert r.get("family") == "v4", r
    assert DELAY - 0.01 <= r["elapsed"] <= late(DELAY + 0.05), r
    assert r["fds_left"] == 0, r  # the IPv6 attempt was closed


def test_create_connection_one_deadline_for_all_attempts(dual):
    timeout = 0.6
    r = dual.client("connect", "dual.test", 7001, timeout)
    assert r.get("error") == "TimeoutError" and r["errno"] == 110, r
    assert timeout - 0.01 <= r["elapsed"] <= late(timeout), r
    assert r["fds_left"] == 0, r


def test_create_connection_to_silent_dns_times_out(dns):
    r = dns.client("connect", "silent.test", 7003, 0.3)
    assert r.get("error") == "TimeoutError", r
    assert r["elapsed"] <= late(0.3 + 0.05), r


# ---- the same lookups under MicroPython -----------------------------------

def micropython():
    mp = os.environ.get("MICROPYTHON", "").split(":")[0]
    if not mp:
        pytest.skip("MICROPYTHON is not set")
    return [mp, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "mp_dns_client.py")]


def test_silent_server_times_out_under_micropython(dns):
    import subprocess

    argv = ["ip", "netns", "exec", dns.ns] + micropython() + ["timeout"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    word, err, ms = r.stdout.split()
    assert (word, err) == ("error", "110"), r.stdout + r.stderr
    assert 300 - 5 <= int(ms) <= late(0.35) * 1000


def test_ctrl_c_ends_lookups_under_micropython_leaving_nothing(dns):
    # The unix port raises KeyboardInterrupt from its SIGINT handler: out
    # of glibc's resolver, for its own socket module, which leaks what the
    # resolver held (its socket) each time. Ours gives the lookup up to its
    # resolver thread, which closes everything once the resolver returns.
    import signal
    import subprocess
    import time

    n = 5
    settle = RESOLVER_TIMEOUT * 2 + 1  # the resolver's worst, and then some
    argv = (["ip", "netns", "exec", dns.ns] + micropython() +
            ["sigint", str(n), str(settle)])
    # `ip netns exec` execs the program: the pid is MicroPython's own.
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    worst, lines = 0.0, []
    try:
        for _ in range(n):
            assert p.stdout.readline().strip() == "start"
            time.sleep(0.2)  # in the lookup by now, waiting on the silent server
            sent = time.monotonic()
            p.send_signal(signal.SIGINT)
            lines.append(p.stdout.readline().strip())
            worst = max(worst, time.monotonic() - sent)
        out, err = p.communicate(timeout=settle + 10)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate(timeout=10)
    assert lines == ["KeyboardInterrupt"] * n, (lines, err)
    assert worst <= late(0.1)
    fds_line, answer = out.split("\n")[:2]
    word, before, after = fds_line.split()
    assert after == before, out  # nothing of the abandoned lookups is open
    assert answer == "192.0.2.10"  # and lookups still work
