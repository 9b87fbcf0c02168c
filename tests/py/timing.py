"""timing.py: the bounds of the timing tests, on a quiet or a busy machine.

A deadline never fires early, however loaded the machine: a lower bound is
the contract's own figure (a 0.2 s timeout takes at least 0.2 s, less only
the clock's rounding). An upper bound is the contract's figure plus SLACK,
how late a busy machine may run a thread whose wait has ended: both cores
loaded by other processes, the tests under ASan, the kernel and the
interpreter's lock in between. SLACK is far below what the bugs these bounds
catch cost: waiting for a socket's whole timeout instead of a signal or a
close, a second timeout after the first, a hang.

Where a bound must be tighter than SLACK, a test measures the machine's
lateness at that moment with reference_lateness() and adds it to the
contract's figure, instead of trusting a quiet machine's numbers.
"""
import os
import select
import time

# USOCKET_TEST_SLACK overrides it (seconds), e.g. for a much slower machine.
SLACK = float(os.environ.get("USOCKET_TEST_SLACK", "0.4"))


def late(promised):
    """The latest a call promised to end after `promised` seconds may end."""
    return promised + SLACK


def reference_lateness(wait=0.02, samples=5):
    """How late (seconds) a plain poll(2) wait of `wait` seconds wakes on
    this machine right now: the worst of a few tries."""
    worst = 0.0
    p = select.poll()
    for _ in range(samples):
        t0 = time.monotonic()
        p.poll(wait * 1000)
        worst = max(worst, time.monotonic() - t0 - wait)
    return worst
