# mp_dns_client.py: the lookup checks of test_dns_lookup.py under
# MicroPython (a binary built with usocket), run in a DnsNamespace.
#   timeout:      a lookup of silent.test with timeout=0.3: "error ERRNO MS"
#   sigint N S:   N times, prints "start" and looks up silent.test without
#                 a time limit, which the test's SIGINT must end (prints
#                 "KeyboardInterrupt"); then, S seconds later (the system
#                 resolver has given up on them all), "fds BEFORE AFTER"
#                 and the answer of a lookup of one.test
import os
import socket
import sys
import time


def fds():
    return len(os.listdir("/proc/self/fd"))


mode = sys.argv[1]
if mode == "timeout":
    t0 = time.ticks_ms()
    try:
        socket.getaddrinfo("silent.test", 80, timeout=0.3)
        print("answered")
    except OSError as e:
        print("error", e.errno, time.ticks_diff(time.ticks_ms(), t0))
elif mode == "sigint":
    before = fds()
    for _ in range(int(sys.argv[2])):
        print("start")
        try:
            socket.getaddrinfo("silent.test", 80)
            print("answered")
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
    time.sleep(float(sys.argv[3]))
    print("fds", before, fds())
    print(socket.getaddrinfo("one.test", 80, 0, socket.SOCK_STREAM)[0][4][0])
