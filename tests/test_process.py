"""The `investor-chat` command as a user runs it: clear config errors, clean start, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from scripts.ports import free_port
from tests.apps import SECRET, ChatClient

COMMAND = [sys.executable, "-m", "server"]


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    env.update(values)
    return env


@pytest.mark.parametrize(
    ("env", "args", "words"),
    [
        ({"CHAT_STORAGE_URL": "ftp://x"}, [], "CHAT_STORAGE_URL"),
        ({"CHAT_PORT": "abc"}, [], "CHAT_PORT"),
        ({"CHAT_LOG_LEVEL": "loud"}, [], "CHAT_LOG_LEVEL"),
        ({"CHAT_QUOTE_PROVIDERS": "bloomberg"}, [], "CHAT_QUOTE_PROVIDERS"),
        ({"CHAT_BUS_URL": "redis://127.0.0.1:6379/9"}, ["server"], "CHAT_SECRET_KEY"),
        ({"CHAT_SECRET_KEY": "short"}, ["server"], "CHAT_SECRET_KEY"),
        ({"CHAT_SECRET_KEY": SECRET}, ["server"], "CHAT_BUS_URL"),
    ],
)
def test_bad_settings_exit_with_one_clear_line(
    tmp_path: Path, env: dict[str, str], args: list[str], words: str
) -> None:
    done = subprocess.run(
        COMMAND + args, env=clean_env(**env), cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("investor-chat: error: ") and words in lines[0]
    assert "Traceback" not in done.stderr


@pytest.fixture
async def standalone(tmp_path: Path, fake_stooq) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:  # type: ignore[no-untyped-def]
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *COMMAND,
        "--port",
        str(port),
        env=clean_env(
            CHAT_QUOTE_PROVIDERS="stooq",
            CHAT_STOOQ_URL=fake_stooq.url,
            CHAT_SEND_BURST="1000",
            CHAT_SEND_RATE="1000",
            CHAT_BCRYPT_ROUNDS="4",
        ),
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.get(f"{url}/readyz") as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    yield proc, url
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


async def test_standalone_runs_on_embedded_defaults_and_sigterm_loses_nothing(
    standalone: tuple[asyncio.subprocess.Process, str], tmp_path: Path
) -> None:
    proc, url = standalone
    async with aiohttp.ClientSession() as http:
        alice = await ChatClient(url, http).register("alice")
        await alice.connect()
        await alice.call("join", {"channel": "general"})
        acks = await asyncio.gather(
            *(alice.call("send", {"channel": "general", "text": f"order {i}"}) for i in range(300))
        )
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(alice.sio.wait(), 10)
    assert all(a["ok"] for a in acks)
    assert await asyncio.wait_for(proc.wait(), 20) == 0
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert "Traceback" not in stderr
    # the defaults put everything under ./var: the archive and the generated signing key
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0
    rows = (
        sqlite3.connect(tmp_path / "var" / "investor-chat.sqlite3").execute("SELECT seq, id FROM messages").fetchall()
    )
    assert sorted(r[0] for r in rows) == list(range(1, 301))
    assert {r[1] for r in rows} == {a["message"]["id"] for a in acks}


def test_every_entry_point_starts(tmp_path: Path) -> None:
    for command, says in (
        (["investor-chat", "--help"], "standalone"),
        ([sys.executable, "-m", "bot", "--help"], "investor-chat's bot"),
        ([sys.executable, "-m", "archiver", "--help"], "investor-chat's archiver"),
    ):
        exe = (
            [str(Path(sys.executable).parent / command[0])] + command[1:] if command[0] == "investor-chat" else command
        )
        done = subprocess.run(exe, env=clean_env(), cwd=tmp_path, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0 and says in done.stdout and "--bus-url" in done.stdout, done.stderr


@pytest.mark.parametrize(("setting", "niceness"), [(None, 10), ("0", 0), ("19", 19)])
async def test_the_archiver_yields_the_cpu_to_the_nodes(
    tmp_path: Path, redis_url: str, setting: str | None, niceness: int
) -> None:
    """The archiver writes in bursts of CPU: it runs at a lower priority (niceness 10 by default) so
    server nodes on the same machine answer first."""
    env = clean_env(
        CHAT_BUS_URL=redis_url, CHAT_STORAGE_URL=f"sqlite:///{tmp_path}/chat.sqlite3", CHAT_SECRET_KEY=SECRET
    )
    if setting is not None:
        env["CHAT_ARCHIVER_NICE"] = setting
    proc = await asyncio.create_subprocess_exec(
        *COMMAND, "archiver", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stderr is not None
        async with asyncio.timeout(20):  # started, niced, its signals handled: it says so
            while b"consuming" not in await proc.stderr.readline():
                pass
        assert proc.returncode is None
        assert os.getpriority(os.PRIO_PROCESS, proc.pid) - os.getpriority(os.PRIO_PROCESS, 0) == niceness
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
