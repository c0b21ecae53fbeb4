"""The examples/ scripts and the `investor-chat tail|say` CLI, run as subprocesses against a live server."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from server.standalone import create_standalone_app
from tests import apps
from tests.apps import PASSWORD, ClientFactory
from tests.scripts import Running, example, run, script_env


async def post(client: Any, channel: str, *texts: str) -> list[dict[str, Any]]:
    await client.call("join", {"channel": channel})
    acks = [await client.call("send", {"channel": channel, "text": text}) for text in texts]
    assert all(ack["ok"] for ack in acks), acks
    return [ack["message"] for ack in acks]


async def test_say_posts_and_prints_the_ack(chat_url: str, make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    await alice.call("join", {"channel": "general"})
    code, out, err = await run(
        example("say.py"),
        "--register",
        "general",
        "AAPL",
        "looks",
        "strong",
        env=script_env(chat_url, "sayer", PASSWORD),
    )
    assert code == 0, err
    ack = json.loads(out)
    assert ack["ok"] and ack["message"]["text"] == "AAPL looks strong" and ack["message"]["user"] == "sayer"
    assert await alice.wait_for("message", lambda m: m["user"] == "sayer") == ack["message"]

    code, out, err = await run(
        example("say.py"),
        "--url",
        chat_url,
        "nosuchchannel",
        "hi",
        env=script_env("http://127.0.0.1:9", "sayer", PASSWORD),
    )
    assert code == 1 and "channel_not_found" in err

    code, _, err = await run(example("say.py"), "general", "hi", env=script_env(chat_url, "sayer", "wrong password"))
    assert code == 1 and "invalid_credentials" in err


async def test_tail_streams_history_then_live_messages(chat_url: str, make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    await post(alice, "general", "one", "two", "three")
    tail = await Running.start(
        example("tail.py"), "--register", "--json", "general", env=script_env(chat_url, "watcher", PASSWORD)
    )
    try:
        history = [json.loads(await tail.line()) for _ in range(3)]
        assert [(m["seq"], m["text"]) for m in history] == [(1, "one"), (2, "two"), (3, "three")]
        await alice.wait_for("presence", lambda p: p["user"] == "watcher" and p["online"])
        live = await post(alice, "general", "four")
        assert json.loads(await tail.line()) == live[0]
    finally:
        await tail.stop()


async def test_tail_reconnects_and_catches_up_by_seq(
    tmp_path: Path, fake_stooq: Any, make_client: ClientFactory
) -> None:
    """The server goes away and comes back on the same port: tail prints everything once, in order."""
    (tmp_path / "restarting").mkdir()
    settings = apps.settings_for(tmp_path / "restarting", stooq_url=fake_stooq.url)
    first = TestServer(create_standalone_app(settings), host="127.0.0.1")
    await first.start_server(shutdown_timeout=0.5)  # a node going down drops its open sockets
    url = str(first.make_url("")).rstrip("/")
    alice = await make_client("alice", url=url)
    await post(alice, "general", "before 1", "before 2")
    tail = await Running.start(
        example("tail.py"), "--register", "general", "--reconnect-delay", "1", env=script_env(url, "watcher", PASSWORD)
    )
    second: TestServer | None = None
    try:
        assert [line.split(": ", 1)[1] for line in await tail.lines_until(lambda s: "before 2" in s)] == [
            "before 1",
            "before 2",
        ]
        await alice.sio.disconnect()
        port = first.port
        await first.close()
        second = TestServer(create_standalone_app(settings), host="127.0.0.1", port=port)
        await second.start_server()
        bob = await make_client("bob", url=url)
        await post(bob, "general", "while away 3", "while away 4")
        lines = await tail.lines_until(lambda s: "while away 4" in s, timeout=20)
        assert [line.split("] ", 1)[1] for line in lines] == ["bob: while away 3", "bob: while away 4"]
        live = await post(bob, "general", "back live 5")
        assert (await tail.line()).endswith(f"[{live[0]['seq']}] bob: back live 5")
    finally:
        await tail.stop()
        if second is not None:
            await second.close()
        else:
            await first.close()


async def test_export_history_pages_back_and_writes_oldest_first(
    chat_url: str, make_client: ClientFactory, tmp_path: Path
) -> None:
    alice = await make_client("alice")
    texts = [f'note {i}, with "quotes"\nand a line break' for i in range(1, 8)]
    await post(alice, "general", *texts)
    env = script_env(chat_url, "alice", PASSWORD)

    code, out, err = await run(example("export_history.py"), "general", "--page-size", "3", env=env)
    assert code == 0, err
    exported = [json.loads(line) for line in out.splitlines()]
    assert [m["seq"] for m in exported] == list(range(1, 8)) and [m["text"] for m in exported] == texts
    assert "exported 7 messages" in err

    target = tmp_path / "general.csv"
    code, _, err = await run(
        example("export_history.py"), "general", "--format", "csv", "-o", str(target), "--page-size", "2", env=env
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [(int(r["seq"]), r["user"], r["text"]) for r in rows] == [(i, "alice", t) for i, t in enumerate(texts, 1)]

    code, _, err = await run(example("export_history.py"), "nosuchchannel", env=env)
    assert code == 1 and "channel_not_found" in err


async def test_alert_bot_answers_its_keyword_only(chat_url: str, make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    await alice.call("join", {"channel": "general"})
    bot = await Running.start(
        example("alert_bot.py"),
        "--register",
        "general",
        "--keyword",
        "AAPL",
        "--keyword",
        "tsla",
        env=script_env(chat_url, "alerts", PASSWORD),
    )
    try:
        assert (await bot.line()).startswith("watching #general for AAPL, tsla")
        await post(alice, "general", "nothing to see", "pineapples are not a ticker")
        asked = (await post(alice, "general", "what do you think of aapl today?"))[0]
        answered = await bot.line()
        assert answered.startswith(f"answered alice at seq {asked['seq']}")
        reply = await alice.wait_for("message", lambda m: m["user"] == "alerts")
        assert reply["text"] == "@alice noted: I am watching aapl for you" and reply["seq"] == asked["seq"] + 1
        assert len([m for m in alice.received("message") if m["user"] == "alerts"]) == 1
    finally:
        await bot.stop()


async def test_cli_say_and_tail_need_no_server_settings(
    chat_url: str, make_client: ClientFactory, tmp_path: Path
) -> None:
    alice = await make_client("alice")
    await post(alice, "general", "hello from alice")
    env = script_env(chat_url, "shelluser", PASSWORD)
    shell = tmp_path / "shell"
    shell.mkdir()
    tail = await Running.start("-m", "server", "tail", "general", "--register", env=env, cwd=shell)
    try:
        assert (await tail.line()).endswith("[1] alice: hello from alice")
        await alice.wait_for("presence", lambda p: p["user"] == "shelluser" and p["online"])
        code, out, err = await run("-m", "server", "say", "general", "buy", "the", "dip", env=env, cwd=shell)
        assert code == 0, err
        ack = json.loads(out)
        assert ack["ok"] and ack["message"]["text"] == "buy the dip" and ack["message"]["seq"] == 2
        assert (await tail.line()).endswith("[2] shelluser: buy the dip")
    finally:
        await tail.stop()
    code, _, err = await run("-m", "server", "say", "general", "x", env=script_env(chat_url, "", ""), cwd=shell)
    assert code == 2 and "CHAT_USERNAME" in err
    assert list(shell.iterdir()) == []  # no var/, no secret key, no database: nothing of a server
