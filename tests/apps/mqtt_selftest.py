# mqtt_selftest.py HOST PORT TAG [CAFILE SERVER_HOSTNAME]: subscribes to
# a topic of its own on an MQTT broker (over TLS when CAFILE is given,
# verifying the broker's certificate as SERVER_HOSTNAME's), publishes to it at QoS 0 and 1, pings, polls with check_msg
# until everything has come back, and prints what it saw and a verdict
# (last line "PASS ..." or "FAIL ..."). TAG keeps two runs on one broker
# apart. Runs unchanged under MicroPython and CPython (mqtt_client.py).
import sys
import time

from mqtt_client import Client, PINGRESP

try:
    from time import ticks_diff, ticks_ms
except ImportError:  # CPython

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b


WAIT_MS = 10000  # for everything to come back; loopback takes milliseconds


def pattern(n):
    # A payload long enough for a 3-byte remaining length, every byte
    # depending on its position so that a lost or moved piece shows.
    return bytes((i * 7 + i // 251) & 0xFF for i in range(n))


def main(host, port, tag, cafile=None, server_hostname=None):
    got = []
    ctx = None
    if cafile:  # TLS: the broker's certificate verified against cafile
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=cafile)
    c = Client("usocket-" + tag, host, port, keepalive=30, ssl=ctx,
               server_hostname=server_hostname)
    c.on_message = lambda topic, msg, qos: got.append((str(topic, "utf-8"), msg, qos))
    print("connect: session present", c.connect(timeout=10))
    base = "usocket/" + tag
    print("subscribe: granted QoS", c.subscribe(base + "/#", 1))
    print("check_msg with nothing sent:", c.check_msg())

    big = pattern(20000)
    sent = [
        (base + "/q0", b"hello at QoS 0", 0),
        (base + "/q1", b"hello at QoS 1", 1),
        (base + "/big", big, 0),
    ]
    for topic, msg, qos in sent:
        pid = c.publish(topic, msg, qos)
        if qos:
            print("publish QoS 1: PUBACK for packet", pid)
    c.ping()

    start = ticks_ms()
    polls = 0
    while len(got) < len(sent) or not c.pongs:
        if ticks_diff(ticks_ms(), start) > WAIT_MS:
            break
        polls += 1
        if c.check_msg() is None:
            time.sleep(0.01)
    print("pings answered:", c.pongs)
    for topic, msg, qos in got:
        shown = repr(msg) if len(msg) < 100 else "%d bytes" % len(msg)
        print("received:", topic[len(base) :], "QoS", qos, shown)
    c.disconnect()

    if got == sent and c.pongs == 1:
        print("PASS mqtt: %d messages came back byte-exact, in order" % len(got))
    else:
        print("FAIL mqtt: sent %d, received %d (%d polls)" % (len(sent), len(got), polls))
        for i, (t, m, q) in enumerate(sent):
            if i >= len(got):
                print("missing:", t)
            elif got[i] != (t, m, q):
                print("differs:", t, "got", got[i][0], len(got[i][1]), "bytes QoS", got[i][2])


main(sys.argv[1], int(sys.argv[2]), sys.argv[3], *sys.argv[4:6])
