"""Run the example scripts and the client CLI as real subprocesses against a live server, reading their output."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


async def post(client: Any, channel: str, *texts: str) -> list[dict[str, Any]]:
    """What a script is to find: `texts` said in `channel` by a test's client, their messages."""
    await client.call("join", {"channel": channel})
    acks = [await client.call("send", {"channel": channel, "text": text}) for text in texts]
    assert all(ack["ok"] for ack in acks), acks
    return [ack["message"] for ack in acks]


async def ok(reply: Any) -> Any:
    """The body of a ChatClient.request that must succeed."""
    status, body = await reply
    assert status in (200, 201, 204), body
    return body


def script_env(url: str, username: str, password: str) -> dict[str, str]:
    """The caller's environment without server settings, plus the client's CHAT_URL and credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env.update(CHAT_URL=url, CHAT_USERNAME=username, CHAT_PASSWORD=password, PYTHONPATH=str(ROOT))
    return env


def example(name: str) -> str:
    return str(EXAMPLES / name)


async def run(*args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 20) -> tuple[int, str, str]:
    """Run `python ARGS` to the end: (exit status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


class Running:
    """A long-running script (tail, alert bot) whose stdout is read line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    @classmethod
    async def start(cls, *args: str, env: dict[str, str], cwd: Path | None = None) -> Running:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        return cls(proc)

    async def line(self, timeout: float = 10) -> str:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not raw:
            assert self.proc.stderr is not None
            err = await self.proc.stderr.read()
            raise AssertionError(f"the script ended: {err.decode()}")
        self.lines.append(raw.decode().rstrip("\n"))
        return self.lines[-1]

    async def lines_until(self, predicate: Callable[[str], bool], timeout: float = 10) -> list[str]:
        """Read lines until one satisfies `predicate`; all the lines read."""
        read: list[str] = []
        async with asyncio.timeout(timeout):
            while not read or not predicate(read[-1]):
                read.append(await self.line(timeout))
        return read

    async def stop(self) -> str:
        """Terminate the script; its stderr."""
        if self.proc.returncode is None:
            self.proc.terminate()
        assert self.proc.stderr is not None
        err = await self.proc.stderr.read()
        await self.proc.wait()
        return err.decode()
