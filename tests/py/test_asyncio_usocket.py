"""test_asyncio_usocket.py: CPython's asyncio runs on usocket sockets: the
loop's sock_* calls (sendfile too), streams over a given socket
(open_connection, start_server, their AF_UNIX twins, an accepted socket's
protocol) and a datagram endpoint; and the call
that asyncio's transports make from CPython 3.12 on (sendmsg of
memoryviews on a non-blocking socket)."""
import asyncio
import collections
import errno
import itertools
import os
import socket

import pytest

import usocket

LIMIT = 10  # seconds: no test here may take longer, even on a busy machine


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, LIMIT))


def listening(family=usocket.AF_INET, name=("127.0.0.1", 0)):
    lsn = usocket.socket(family, usocket.SOCK_STREAM)
    lsn.bind(name)
    lsn.listen(8)
    return lsn


async def connected_pair(loop):
    """(client, server), both usocket and non-blocking, made by the loop."""
    lsn = listening()
    lsn.setblocking(False)
    cli = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM)
    cli.setblocking(False)
    try:
        accepting = asyncio.ensure_future(loop.sock_accept(lsn))
        await loop.sock_connect(cli, lsn.getsockname())
        srv, peer = await accepting
    finally:
        lsn.close()
    srv.setblocking(False)
    assert peer == cli.getsockname()
    return cli, srv


def test_loop_sock_calls_move_data_both_ways():
    async def main():
        loop = asyncio.get_running_loop()
        cli, srv = await connected_pair(loop)
        try:
            await loop.sock_sendall(cli, b"hello")
            assert await loop.sock_recv(srv, 10) == b"hello"
            await loop.sock_sendall(srv, b"world")
            buf = bytearray(8)
            assert await loop.sock_recv_into(cli, buf) == 5
            assert buf[:5] == b"world"
            cli.close()
            assert await loop.sock_recv(srv, 10) == b""
        finally:
            cli.close()
            srv.close()

    run(main())


def test_loop_sock_sendall_of_more_than_the_buffers_hold():
    data = os.urandom(4 << 20)

    async def main():
        loop = asyncio.get_running_loop()
        cli, srv = await connected_pair(loop)

        async def reader():
            got = bytearray()
            while len(got) < len(data):
                chunk = await loop.sock_recv(srv, 1 << 16)
                if not chunk:
                    break
                got += chunk
            return bytes(got)

        try:
            reading = asyncio.ensure_future(reader())
            await loop.sock_sendall(cli, data)
            assert await reading == data
        finally:
            cli.close()
            srv.close()

    run(main())


def test_loop_sock_sendfile_and_connect_accepted_socket(tmp_path):
    payload = os.urandom(300000)
    path = tmp_path / "payload"
    path.write_bytes(payload)

    async def main():
        loop = asyncio.get_running_loop()
        cli, srv = await connected_pair(loop)
        got = loop.create_future()

        class Proto(asyncio.Protocol):
            def connection_made(self, transport):
                self.transport, self.data = transport, bytearray()

            def data_received(self, data):
                self.data += data
                if len(self.data) == len(payload):
                    got.set_result(bytes(self.data))
                    self.transport.write(b"thanks")

        transport, _ = await loop.connect_accepted_socket(Proto, srv)
        try:
            with open(path, "rb") as f:
                assert await loop.sock_sendfile(cli, f) == len(payload)
            assert await got == payload
            reply = b""
            while len(reply) < 6:  # bounded: the peer closes after it
                chunk = await loop.sock_recv(cli, 10)
                if not chunk:
                    break
                reply += chunk
            assert reply == b"thanks"
        finally:
            transport.close()
            cli.close()

    run(main())


def test_loop_sock_connect_refused_is_connectionrefusederror():
    with socket.socket() as tmp:
        tmp.bind(("127.0.0.1", 0))
        port = tmp.getsockname()[1]  # nobody listens there once closed

    async def main():
        loop = asyncio.get_running_loop()
        cli = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM)
        cli.setblocking(False)
        try:
            with pytest.raises(ConnectionRefusedError) as e:
                await loop.sock_connect(cli, ("127.0.0.1", port))
            assert e.value.errno == errno.ECONNREFUSED
        finally:
            cli.close()

    run(main())


def test_loop_sock_recv_on_a_closed_socket_is_ebadf():
    async def main():
        loop = asyncio.get_running_loop()
        cli, srv = await connected_pair(loop)
        cli.close()
        srv.close()
        with pytest.raises(OSError) as e:
            await loop.sock_recv(srv, 10)
        assert e.value.errno == errno.EBADF

    run(main())


def test_streams_over_given_usockets():
    async def handle(reader, writer):
        line = await reader.readline()
        writer.write(line.upper())
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main():
        lsn = listening()
        server = await asyncio.start_server(handle, sock=lsn)
        cli = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM)
        cli.connect(lsn.getsockname())
        reader, writer = await asyncio.open_connection(sock=cli)
        try:
            writer.write(b"over usocket\n")
            await writer.drain()
            assert await reader.read() == b"OVER USOCKET\n"
            assert writer.get_extra_info("peername") == lsn.getsockname()
        finally:
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()

    run(main())


def test_unix_streams_over_given_usockets():
    name = b"\0usocket-asyncio-%d" % os.getpid()

    async def handle(reader, writer):
        writer.write((await reader.readexactly(5))[::-1])
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main():
        lsn = listening(usocket.AF_UNIX, name)
        server = await asyncio.start_unix_server(handle, sock=lsn)
        cli = usocket.socket(usocket.AF_UNIX, usocket.SOCK_STREAM)
        cli.connect(name)
        reader, writer = await asyncio.open_unix_connection(sock=cli)
        try:
            writer.write(b"abcde")
            assert await reader.read() == b"edcba"
        finally:
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()

    run(main())


def test_datagram_endpoint_over_a_given_usocket():
    async def main():
        loop = asyncio.get_running_loop()
        sock = usocket.socket(usocket.AF_INET, usocket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        got = loop.create_future()

        class Proto(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                if not got.done():
                    got.set_result((data, addr))

        transport, _ = await loop.create_datagram_endpoint(Proto, sock=sock)
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            peer.bind(("127.0.0.1", 0))
            peer.sendto(b"ping", tuple(sock.getsockname()))
            data, addr = await got
            assert data == b"ping" and tuple(addr) == peer.getsockname()
            transport.sendto(b"pong", peer.getsockname())
            peer.setblocking(False)
            assert await loop.sock_recv(peer, 10) == b"pong"
        finally:
            transport.close()
            peer.close()

    run(main())


def test_sendmsg_as_the_312_transports_call_it():
    """From 3.12 a transport writes its buffer with sendmsg of an iterator
    (itertools.islice over a deque of memoryviews) on the non-blocking
    socket, and keeps what did not fit."""
    lsn = listening()
    cli = usocket.socket(usocket.AF_INET, usocket.SOCK_STREAM)
    try:
        cli.connect(lsn.getsockname())
        srv, _ = lsn.accept()
        cli.setblocking(False)
        chunk = memoryview(b"y" * (1 << 20))
        sent = 0
        with pytest.raises(BlockingIOError):
            for _ in range(256):  # bounded: the buffers fill long before
                pending = collections.deque([chunk, chunk[:1000]])
                n = cli.sendmsg(itertools.islice(pending, 0, 16))
                assert 0 < n <= len(chunk) + 1000
                sent += n
        srv.settimeout(5)
        got = 0
        while got < sent:
            got += len(srv.recv(1 << 20))
        assert got == sent
        srv.close()
    finally:
        cli.close()
        lsn.close()
