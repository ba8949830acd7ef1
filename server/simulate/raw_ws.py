"""A minimal WebSocket client (RFC 6455) for load generation: text frames only, no extensions.

The city and storm benchmarks drive thousands of sockets from one Python process on the same
cores as the servers they measure. aiohttp's client spends about a millisecond of CPU on each
`ws_connect` (request and response objects, connector, header parsing): in a failover of 2,000
kiosks that is seconds of the generator's own CPU inside every figure it reports. This client
writes the upgrade request itself, reads the 101 answer and then frames straight off an asyncio
stream, which costs a fraction of that. It is for simulated clients, not for the product.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_HEADER_BYTES = 16_384


class HandshakeError(ConnectionError):
    """The server did not switch protocols (`status` is its HTTP status, 0 if unreadable)."""

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(f"WebSocket upgrade refused: {status} {detail}".strip())
        self.status = status


@dataclass(frozen=True)
class Closed:
    """The server's close frame: its code (1005 when it sent none) and reason."""

    code: int
    reason: str


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR `payload` with the 4-byte `key` repeated (one big-integer XOR, not a byte loop)."""
    size = len(payload)
    if not size:
        return payload
    keys = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(keys, "big")).to_bytes(size, "big")


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    key = os.urandom(4)
    return header + key + mask(payload, key)


class RawWebSocket:
    """One client socket: `connect`, `send_str`, `receive` (text, or `Closed`), `close`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.closed = False

    @classmethod
    async def connect(cls, url: str, headers: dict[str, str] | None = None, timeout: float = 10.0) -> RawWebSocket:
        """Open `ws://host:port/path` and complete the upgrade (raises `HandshakeError`, `OSError`)."""
        parts = urlsplit(url)
        host = parts.hostname or "127.0.0.1"
        port = parts.port or 80
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        key = base64.b64encode(os.urandom(16))
        lines = [f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
                 f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key.decode()}", "Sec-WebSocket-Version: 13"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            writer.close()
            raise HandshakeError(0, "no answer") from exc
        except TimeoutError:
            writer.close()
            raise
        status_line, _, rest = head.partition(b"\r\n")
        fields = status_line.split(b" ", 2)
        status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
        expected = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        if status != 101 or b"sec-websocket-accept: " + expected.lower() not in rest.lower():
            writer.close()
            raise HandshakeError(status, status_line.decode(errors="replace"))
        return cls(reader, writer)

    async def send_str(self, text: str) -> None:
        """Send one text frame."""
        if self.closed:
            raise ConnectionResetError("socket closed")
        self.writer.write(frame(OP_TEXT, text.encode()))
        await self.writer.drain()

    async def receive(self) -> str | Closed:
        """The next text message; pings are answered, binary frames skipped. A `Closed` when the
        server closes (the close is answered) or the connection ends (code 1006)."""
        parts: list[bytes] = []
        message_op = OP_TEXT
        while True:
            try:
                first, second = await self.reader.readexactly(2)
                size = second & 0x7F
                if size == 126:
                    (size,) = struct.unpack("!H", await self.reader.readexactly(2))
                elif size == 127:
                    (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
                key = await self.reader.readexactly(4) if second & 0x80 else b""
                payload = await self.reader.readexactly(size)
            except (asyncio.IncompleteReadError, ConnectionError):
                self._abort()
                return Closed(1006, "")
            if key:
                payload = mask(payload, key)
            opcode = first & 0x0F
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                await self._answer_close(payload[:2])
                return Closed(code, payload[2:].decode(errors="replace"))
            if opcode == OP_PING:
                self.writer.write(frame(OP_PONG, payload))
                continue
            if opcode in (OP_TEXT, OP_BINARY):
                message_op, parts = opcode, [payload]
            elif opcode == OP_CONTINUATION:
                parts.append(payload)
            else:
                continue  # a pong, or an opcode this client does not know
            if first & 0x80:
                data, parts = b"".join(parts), []
                if message_op == OP_TEXT:
                    return data.decode()

    async def close(self, code: int = 1000) -> None:
        """Send a close frame and drop the connection (the server's answer is not awaited)."""
        if self.closed:
            return
        self.closed = True
        try:
            self.writer.write(frame(OP_CLOSE, struct.pack("!H", code)))
            self.writer.close()
        except (ConnectionError, RuntimeError):
            pass

    async def _answer_close(self, code: bytes) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.writer.write(frame(OP_CLOSE, code))
                self.writer.close()
            except (ConnectionError, RuntimeError):
                pass

    def _abort(self) -> None:
        self.closed = True
        self.writer.close()
