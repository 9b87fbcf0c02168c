"""test_lookup_pool.py: the resolver threads behind getaddrinfo's name
lookups, as a user can see them: lookups from many threads at once, a
forked child's lookups, and threads that end once idle. (Lookups against
a DNS server that misbehaves: test_dns_lookup.py.)"""
import os
import subprocess
import sys
import threading
import time

from timing import late

IDLE = 2  # seconds a resolver thread waits for work before it ends


def tasks():
    return len(os.listdir("/proc/self/task"))


def test_many_threads_look_up_at_once(us):
    results, errors = [], []

    def one():
        try:
            results.append(us.getaddrinfo("localhost", 80, 2, 1, timeout=10))
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert not errors and len(results) == 24
    assert all(r[0][4][0] == "127.0.0.1" for r in results)


IDLE_CHILD = """
import os, sys, time, usocket
tasks = lambda: len(os.listdir("/proc/self/task"))
base = tasks()
usocket.getaddrinfo("localhost", 80, timeout=5)
during = tasks()
t0 = time.monotonic()
while tasks() > base and time.monotonic() - t0 < float(sys.argv[1]):
    time.sleep(0.02)
print(base, during, tasks(), time.monotonic() - t0)
"""


def test_resolver_threads_end_when_idle():
    # In a fresh process, whose only threads are its own: the lookup's
    # resolver thread is there after it, and gone IDLE seconds later.
    out = subprocess.run([sys.executable, "-c", IDLE_CHILD, str(late(IDLE) + 1)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    base, during, after, waited = out.stdout.split()
    assert int(during) == int(base) + 1
    assert int(after) == int(base), out.stdout
    assert IDLE - 0.1 <= float(waited) <= late(IDLE), out.stdout


def test_forked_child_looks_up(us):
    us.getaddrinfo("localhost", 80, timeout=5)  # the parent's pool is up
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            r = us.getaddrinfo("localhost", 80, 2, 1, timeout=5)
            code = 0 if r[0][4][0] == "127.0.0.1" else 2
        finally:
            os._exit(code)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError("the child's lookup hung")
    assert os.waitstatus_to_exitcode(status) == 0


def test_nothing_of_a_lookup_is_open_once_it_returns(us):
    # Checked right after each call, many times: a descriptor closed only
    # when the resolver thread lets go (a moment later) would show up.
    base = len(os.listdir("/proc/self/fd"))
    extra = 0
    for _ in range(500):
        us.getaddrinfo("localhost", 80, timeout=5)
        extra = max(extra, len(os.listdir("/proc/self/fd")) - base)
    assert extra == 0
