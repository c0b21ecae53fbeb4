"""Hostile clients for the hardening tests: a live node as a subprocess, raw Engine.IO sockets, floods."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import socket
import struct
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from scripts.ports import free_port
from tests.apps import PASSWORD, SECRET

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class LiveNode:
    """A standalone node in its own process, so its memory and sockets can be measured from outside."""

    proc: asyncio.subprocess.Process
    url: str

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_kb(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert found
        return int(found.group(1))

    def cpu_seconds(self) -> float:
        """User plus system CPU time the node has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_sockets(self) -> int:
        count = 0
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            with suppress(OSError):
                count += os.readlink(f"/proc/{self.pid}/fd/{fd}").startswith("socket:")
        return count

    async def metric(self, name: str) -> float:
        async with aiohttp.ClientSession() as http, http.get(f"{self.url}/metrics") as resp:
            text = await resp.text()
        found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0


@asynccontextmanager
async def live_node(tmp_path: Path, **env: str) -> AsyncIterator[LiveNode]:
    port = free_port()
    values = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    values.update(
        CHAT_SECRET_KEY=SECRET,
        CHAT_BCRYPT_ROUNDS="4",
        CHAT_QUOTE_PROVIDERS="stooq",
        CHAT_STOOQ_URL="http://127.0.0.1:9",
        CHAT_LOGIN_RATE="1000",
        CHAT_LOGIN_BURST="1000",
        CHAT_LOG_LEVEL="warning",
        PYTHONPATH=str(ROOT),
    )
    values.update(env)
    with open(tmp_path / "node.log", "wb") as log:  # the child keeps its own descriptor
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server", "--port", str(port), env=values, cwd=tmp_path, stderr=log
        )
    node = LiveNode(proc, f"http://127.0.0.1:{port}")
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(150):
                try:
                    async with http.get(f"{node.url}/readyz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
        yield node
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def register(http: aiohttp.ClientSession, url: str, username: str) -> str:
    async with http.post(f"{url}/api/register", json={"username": username, "password": PASSWORD}) as resp:
        body = await resp.json()
        assert resp.status == 201, body
        return str(body["token"])


def ws_url(url: str) -> str:
    return url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


class Refused(Exception):
    """The server refused the Socket.IO connect: args[0] is its {code, message}."""


async def open_socket(http: aiohttp.ClientSession, url: str, token: str) -> aiohttp.ClientWebSocketResponse:
    """A raw websocket past the Engine.IO open and the Socket.IO connect of namespace '/' (Refused if not)."""
    ws = await http.ws_connect(ws_url(url), autoping=True, max_msg_size=0)
    first = await ws.receive(timeout=10)
    assert first.type == aiohttp.WSMsgType.TEXT and first.data.startswith("0{"), first
    await ws.send_str("40" + json.dumps({"token": token}))
    while True:
        msg = await ws.receive(timeout=10)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        if msg.data.startswith("40"):
            return ws
        if msg.data.startswith("44"):
            await ws.close()
            raise Refused(json.loads(msg.data[2:]))


async def drain_until_closed(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> tuple[Counter[str], bool]:
    """Read (answering pings) until the server closes or `timeout`; ack codes seen, and whether it closed."""
    codes: Counter[str] = Counter()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            break
        if msg.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        ):
            return codes, True
        if msg.type != aiohttp.WSMsgType.TEXT:
            continue
        if msg.data == "2":
            await ws.send_str("3")
        elif msg.data.startswith("1"):  # Engine.IO close
            return codes, True
        elif msg.data.startswith("43"):
            ack = json.loads(msg.data[msg.data.index("[") :])[0]
            codes["ok" if ack.get("ok") else ack["error"]["code"]] += 1
        elif msg.data.startswith("41"):  # Socket.IO disconnect of the namespace
            return codes, True
    return codes, ws.closed


def event_frame(event: str, n: int) -> str:
    payload: dict[str, Any] = {"channel": "general", "text": f"flood {n}"}
    return f"42{n}" + json.dumps([event, payload])


async def flood(url: str, token: str, event: str, seconds: float, burst: int = 300) -> dict[str, Any]:
    """Reconnect and blast `event` without waiting for acks, for `seconds`; what the server answered."""
    codes: Counter[str] = Counter()
    cycles = closed = frames = 0
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        while cycles == 0 or time.monotonic() < deadline:
            try:
                ws = await open_socket(http, url, token)
            except Refused as refused:  # reconnecting too often: the connect budget
                codes[f"connect:{refused.args[0]['code']}"] += 1
                await asyncio.sleep(0.5)
                continue
            await ws.send_str("420" + json.dumps(["join", {"channel": "general"}]))
            for n in range(1, burst + 1):
                await ws.send_str(event_frame(event, n))
            frames += burst
            got, was_closed = await drain_until_closed(ws, 5)
            codes.update(got)
            closed += was_closed
            cycles += 1
            await ws.close()
    return {"event": event, "cycles": cycles, "closed_by_server": closed, "frames": frames, "acks": dict(codes)}


def main() -> None:
    """`python -m tests.rawio flood URL TOKEN EVENT SECONDS`: a flooder in its own process."""
    _, command, url, token, event, seconds = sys.argv
    assert command == "flood"
    print(json.dumps(asyncio.run(flood(url, token, event, float(seconds)))), flush=True)


if __name__ == "__main__":
    main()


class DeafSocket:
    """A websocket client that never reads after its handshake: a plain TCP stream with a small receive
    buffer, so whatever the server sends piles up on the server's side, as from a hostile client."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str, token: str | None, *, connect: bool = True) -> DeafSocket:
        host, port = url.removeprefix("http://").split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        deaf = cls(reader, writer)
        if connect:
            await deaf.read_frame()  # the Engine.IO open packet
            deaf.send("40" + json.dumps({"token": token}))
            assert (await deaf.read_frame()).startswith("40")
        return deaf

    async def read_frame(self) -> str:
        """One unfragmented text frame from the server (only before the socket turns deaf)."""
        _, second = await asyncio.wait_for(self.reader.readexactly(2), 10)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return (await self.reader.readexactly(size)).decode()

    def send(self, text: str | bytes) -> None:
        """One masked frame, as a client sends it: text, or binary when given bytes."""
        payload = text.encode() if isinstance(text, str) else text
        opcode = 0x81 if isinstance(text, str) else 0x82
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            head = struct.pack("!BB", opcode, 0x80 | size)
        elif size < 65536:
            head = struct.pack("!BBH", opcode, 0x80 | 126, size)
        else:
            head = struct.pack("!BBQ", opcode, 0x80 | 127, size)
        self.writer.write(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def closed_by_server(self) -> bool:
        return self.writer.is_closing() or self.reader.at_eof()

    async def wait_closed_by_server(self, timeout: float) -> bool:
        """Whether the server drops the connection within `timeout` (this reads, and discards, what came)."""
        try:
            async with asyncio.timeout(timeout):
                while await self.reader.read(1 << 20):
                    pass
            return True
        except TimeoutError:
            return False
        except ConnectionError:
            return True

    def close(self) -> None:
        self.writer.close()
