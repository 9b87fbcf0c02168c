# mqtt_client.py: a small MQTT 3.1.1 client written the way micropython-lib
# writes its own (umqtt): `import socket`, the stream calls read/write of
# MicroPython's socket, non-blocking polling by setblocking(False) and a
# read(1) that gives None when nothing has come. It runs unchanged under
# MicroPython with usocket and under CPython through `python3 -m usocket
# run`, which is what tests/py/test_apps.py checks. As umqtt, it takes an
# SSLContext for TLS (MicroPython's ssl module; ussl on CPython) and wraps
# its socket once connected.
import socket
import struct

CONNECT = 0x10
CONNACK = 0x20
PUBLISH = 0x30
PUBACK = 0x40
SUBSCRIBE = 0x82  # the low bits 0b0010 are required by the protocol
SUBACK = 0x90
PINGREQ = 0xC0
PINGRESP = 0xD0
DISCONNECT = 0xE0


class MQTTError(Exception):
    pass


def _put_length(buf, n):
    # The "remaining length": 7 bits a byte, low group first, the top bit
    # saying that another byte follows. Returns how many bytes it took.
    at = 1
    while True:
        digit = n & 0x7F
        n >>= 7
        if n:
            digit |= 0x80
        buf[at] = digit
        at += 1
        if not n:
            return at - 1


class Client:
    def __init__(self, client_id, host, port=1883, keepalive=60, ssl=None,
                 server_hostname=None):
        self.client_id = client_id
        self.ssl = ssl
        self.server_hostname = server_hostname or host
        self.host = host
        self.port = port
        self.keepalive = keepalive
        self.sock = None
        self.next_id = 0
        self.on_message = None
        self.pongs = 0

    def _need(self, n):
        # A blocking read(n) waits for all n bytes; fewer means the broker
        # closed the connection.
        data = self.sock.read(n)
        if data is None or len(data) != n:
            raise MQTTError("connection closed by the broker")
        return data

    def _write_str(self, s):
        if isinstance(s, str):
            s = s.encode()
        self.sock.write(struct.pack("!H", len(s)))
        self.sock.write(s)

    def _read_length(self):
        n = 0
        shift = 0
        while True:
            digit = self._need(1)[0]
            n |= (digit & 0x7F) << shift
            if digit & 0x80 == 0:
                return n
            shift += 7
            if shift > 21:
                raise MQTTError("malformed remaining length")

    def _packet_id(self):
        self.next_id = self.next_id % 0xFFFF + 1
        return self.next_id

    def connect(self, clean=True, timeout=None):
        self.sock = socket.socket()
        self.sock.settimeout(timeout)
        self.sock.connect(socket.getaddrinfo(self.host, self.port)[0][-1])
        if self.ssl:
            self.sock = self.ssl.wrap_socket(self.sock,
                                             server_hostname=self.server_hostname)
        cid = self.client_id.encode()
        # Variable header: protocol name "MQTT", level 4 (3.1.1), flags,
        # keepalive in seconds.
        var = bytearray(b"\x00\x04MQTT\x04\x00\x00\x00")
        var[7] = 0x02 if clean else 0
        var[8] = self.keepalive >> 8
        var[9] = self.keepalive & 0xFF
        head = bytearray(5)
        head[0] = CONNECT
        n = _put_length(head, len(var) + 2 + len(cid))
        self.sock.write(head, 1 + n)
        self.sock.write(var)
        self._write_str(cid)
        ack = self._need(4)
        if ack[0] != CONNACK or ack[1] != 2:
            raise MQTTError("expected CONNACK, got %r" % ack)
        if ack[3] != 0:
            raise MQTTError("connection refused, code %d" % ack[3])
        return ack[2] & 1  # session present

    def subscribe(self, topic, qos=0):
        pid = self._packet_id()
        t = topic.encode()
        head = bytearray(5)
        head[0] = SUBSCRIBE
        n = _put_length(head, 2 + 2 + len(t) + 1)
        self.sock.write(head, 1 + n)
        self.sock.write(struct.pack("!H", pid))
        self._write_str(t)
        self.sock.write(bytes([qos]))
        while True:
            op = self.wait_msg()
            if op == SUBACK:
                body = self._need(self._read_length())
                got_pid, granted = struct.unpack("!HB", body)
                if got_pid != pid:
                    raise MQTTError("SUBACK for packet %d, not %d" % (got_pid, pid))
                if granted == 0x80:
                    raise MQTTError("subscription to %s refused" % topic)
                return granted

    def publish(self, topic, msg, qos=0, retain=False):
        if isinstance(msg, str):
            msg = msg.encode()
        t = topic.encode()
        size = 2 + len(t) + len(msg)
        if qos:
            size += 2
        head = bytearray(5)
        head[0] = PUBLISH | qos << 1 | (1 if retain else 0)
        n = _put_length(head, size)
        self.sock.write(head, 1 + n)
        self._write_str(t)
        pid = 0
        if qos:
            pid = self._packet_id()
            self.sock.write(struct.pack("!H", pid))
        self.sock.write(msg)
        if qos == 1:
            # Messages may arrive before the broker's PUBACK (we may be
            # subscribed to this very topic): wait_msg hands them on.
            while True:
                op = self.wait_msg()
                if op == PUBACK:
                    body = self._need(self._read_length())
                    if struct.unpack("!H", body)[0] == pid:
                        return pid
        elif qos:
            raise MQTTError("QoS 2 is not supported")
        return pid

    def ping(self):
        self.sock.write(bytes([PINGREQ, 0]))

    def disconnect(self):
        self.sock.write(bytes([DISCONNECT, 0]))
        self.sock.close()
        self.sock = None

    def wait_msg(self):
        # One packet from the broker. PUBLISH goes to on_message (and is
        # acknowledged if QoS 1), PINGRESP is counted; for any other packet
        # the type byte is returned and its caller reads the rest.
        first = self.sock.read(1)
        self.sock.setblocking(True)
        if first is None:
            return None  # non-blocking (check_msg) and nothing there
        if first == b"":
            raise MQTTError("connection closed by the broker")
        op = first[0]
        if op == PINGRESP:
            if self._read_length() != 0:
                raise MQTTError("malformed PINGRESP")
            self.pongs += 1
            return PINGRESP
        if op & 0xF0 != PUBLISH:
            return op
        left = self._read_length()
        tlen = struct.unpack("!H", self._need(2))[0]
        topic = self._need(tlen)
        left -= 2 + tlen
        qos = (op >> 1) & 3
        pid = 0
        if qos:
            pid = struct.unpack("!H", self._need(2))[0]
            left -= 2
        msg = self._need(left) if left else b""
        if self.on_message:
            self.on_message(topic, msg, qos)
        if qos == 1:
            self.sock.write(struct.pack("!BBH", PUBACK, 2, pid))
        elif qos:
            raise MQTTError("QoS 2 is not supported")
        return PUBLISH

    def check_msg(self):
        # As wait_msg, but returns None at once if nothing has arrived.
        self.sock.setblocking(False)
        return self.wait_msg()
