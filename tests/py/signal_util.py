"""signal_util.py: what the Ctrl-C tests share: the promptness the contract
promises, and the machine's scheduling slack, measured at the time of the
test, that a bound on it must allow for."""
import os
import threading
import time

PROMPT = 0.100  # a delivered signal whose handler raises ends a call so soon


def wakeup_slack(delays, *, gap=0.005):
    """How late the main thread wakes from a plain blocking read of a pipe
    that another thread writes to after each of the delays (seconds): the
    worst of them. Nothing of usocket is involved: this is what the
    machine's load alone adds to any wake-up."""
    r, w = os.pipe()
    stamps = []

    def writer():
        for d in delays:
            time.sleep(d)
            stamps.append(time.monotonic())
            os.write(w, b"x")
            time.sleep(gap)

    t = threading.Thread(target=writer, daemon=True)
    worst = 0.0
    try:
        t.start()
        for i in range(len(delays)):
            os.read(r, 1)
            worst = max(worst, time.monotonic() - stamps[i])
        t.join(5)
    finally:
        os.close(r)
        os.close(w)
    return worst
