"""The examples/ scripts and the `investor-chat tail|say` CLI, run as subprocesses against a live server."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from server.standalone import create_standalone_app
from tests import apps
from tests.apps import PASSWORD, ClientFactory
from tests.scripts import Running, example, post, run, script_env


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


async def test_say_reply_to_posts_into_the_thread_of_the_root(chat_url: str, make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    (root,) = await post(alice, "general", "AAPL earnings tonight")
    env = script_env(chat_url, "sayer", PASSWORD)
    code, out, err = await run(
        "-m", "server", "say", "--register", "general", "--reply-to", root["id"], "guidance", "matters", env=env
    )
    assert code == 0, err
    reply = json.loads(out)["message"]
    assert reply["reply_to"] == root["id"] and reply["text"] == "guidance matters"
    assert await alice.wait_for("message", lambda m: m["user"] == "sayer") == reply
    # a reply to the reply lands in the root's thread
    code, out, err = await run(example("say.py"), "general", "--reply-to", reply["id"], "agreed", env=env)
    assert code == 0, err
    assert json.loads(out)["message"]["reply_to"] == root["id"]
    status, thread = await alice.request("GET", f"/api/channels/general/messages/{root['id']}/replies")
    assert status == 200 and [m["text"] for m in thread["messages"]] == ["guidance matters", "agreed"]

    code, out, err = await run(example("say.py"), "general", "--reply-to", "nosuchid", "hi", env=env)
    assert code == 1 and json.loads(out)["error"]["code"] == "message_not_found"


async def test_tail_shows_edits_deletes_and_reactions_by_others_live(chat_url: str, make_client: ClientFactory) -> None:
    alice, bob = await make_client("alice"), await make_client("bob")
    (first,) = await post(alice, "general", "AAPL to 300")
    await bob.call("join", {"channel": "general"})
    env = script_env(chat_url, "watcher", PASSWORD)
    tail = await Running.start("-m", "server", "tail", "--register", "general", env=env)
    raw = await Running.start(example("tail.py"), "--register", "--json", "general", env=env)
    try:
        assert (await tail.line()).endswith("[1] alice: AAPL to 300")
        assert json.loads(await raw.line()) == first
        await alice.wait_for("presence", lambda p: p["user"] == "watcher" and p["online"])
        ref = {"channel": "general", "id": first["id"]}
        for who, event, payload in [
            (alice, "edit", {**ref, "text": "AAPL to 310"}),
            (bob, "react", {**ref, "emoji": "🐂"}),
            (bob, "send", {"channel": "general", "text": "too bullish", "reply_to": first["id"]}),
            (alice, "delete", ref),
        ]:
            ack = await who.call(event, payload)
            assert ack["ok"], ack
        lines = [(await tail.line()).split(" ", 2)[2] for _ in range(4)]
        assert lines == [
            "[2] alice edited #1: AAPL to 310",
            "[3] bob reacted 🐂 to #1",
            "[4] bob ↪ #1: too bullish",
            "[5] alice deleted #1",
        ]
        events = [json.loads(await raw.line()) for _ in range(4)]
        assert [(e["seq"], e.get("kind"), e.get("by")) for e in events] == [
            (2, "edit", "alice"), (3, "react", "bob"), (4, None, None), (5, "delete", "alice")
        ]  # fmt: skip
        assert events[1]["emoji"] == "🐂" and events[1]["message"]["reactions"][0]["users"] == ["bob"]
        assert events[3]["message"]["deleted"] and events[3]["message"]["text"] == ""
        assert events[2]["reply_to"] == first["id"] and events[2]["text"] == "too bullish"
    finally:
        await tail.stop()
        await raw.stop()


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
    """The server goes away and comes back on the same port: tail prints every message once, in order,
    and the changes made meanwhile once each: a changed message it had shown as a change, a new one as a
    message as it is now (folded)."""
    (tmp_path / "restarting").mkdir()
    settings = apps.settings_for(tmp_path / "restarting", stooq_url=fake_stooq.url)
    first = TestServer(create_standalone_app(settings), host="127.0.0.1")
    await first.start_server(shutdown_timeout=0.5)  # a node going down drops its open sockets
    url = str(first.make_url("")).rstrip("/")
    alice = await make_client("alice", url=url)
    before = await post(alice, "general", "before 1", "before 2")
    # 3 s before reconnecting: all the changes below are made while the tail is away (in well under a second)
    tail = await Running.start(
        example("tail.py"), "--register", "general", "--reconnect-delay", "3", env=script_env(url, "watcher", PASSWORD)
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
        (away,) = await post(bob, "general", "while away 3")
        await alice.connect()  # her session outlives the restart
        await alice.call("join", {"channel": "general"})
        for who, event, payload in [
            (alice, "edit", {"id": before[0]["id"], "text": "before 1, corrected"}),  # seq 4
            (alice, "delete", {"id": before[1]["id"]}),  # seq 5
            (bob, "edit", {"id": away["id"], "text": "while away 3, corrected"}),  # seq 6
        ]:
            assert (await who.call(event, {"channel": "general", **payload}))["ok"]
        await post(bob, "general", "while away 7")
        lines = await tail.lines_until(lambda s: "while away 7" in s, timeout=20)
        assert [line.split(" ", 2)[2] for line in lines] == [
            "[4] alice edited #1: before 1, corrected",
            "[5] alice's #2 was deleted",
            "[3] bob: while away 3, corrected (edited)",
            "[7] bob: while away 7",
        ]
        await alice.call("react", {"channel": "general", "id": away["id"], "emoji": "🐻"})
        live = await post(bob, "general", "back live 9")
        assert [(await tail.line()).split(" ", 2)[2] for _ in range(2)] == [
            "[8] alice reacted 🐻 to #3",
            f"[{live[0]['seq']}] bob: back live 9",
        ]
    finally:
        await tail.stop()
        if second is not None:
            await second.close()
        else:
            await first.close()


async def test_tail_catch_up_over_several_pages_prints_each_message_once_in_seq_order(
    tmp_path: Path, fake_stooq: Any, make_client: ClientFactory
) -> None:
    """A catch-up longer than one join (200) comes oldest change first: an early message changed late
    arrives on the last page, yet is printed once, at its place, as it is now."""
    (tmp_path / "busy").mkdir()
    limits = {"send_rate": 1000, "send_burst": 1000, "event_rate": 1000, "event_burst": 1000}
    server = TestServer(create_standalone_app(apps.settings_for(tmp_path / "busy", **limits)), host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    alice = await make_client("alice", url=url)
    posted = await post(alice, "general", *(f"note {i}" for i in range(1, 211)))
    # the bus keeps the newest 200: wait for the archiver to hold the older ones (the oldest page reads)
    async with asyncio.timeout(10):
        while (await alice.request("GET", "/api/channels/general/messages?after=0&limit=5"))[0] != 200:
            await asyncio.sleep(0.05)
    edited = await alice.call("edit", {"channel": "general", "id": posted[4]["id"], "text": "note 5, late"})
    assert edited["ok"], edited
    tail = await Running.start(
        example("tail.py"), "--register", "--json", "--after", "0", "general", env=script_env(url, "watcher", PASSWORD)
    )
    try:
        shown = [json.loads(await tail.line()) for _ in range(210)]
        assert [m["seq"] for m in shown] == list(range(1, 211)) and not any("kind" in m for m in shown)
        assert shown[4]["text"] == "note 5, late" and shown[4]["rev"] == 211
        await alice.wait_for("presence", lambda p: p["user"] == "watcher" and p["online"])
        (live,) = await post(alice, "general", "after the catch-up")
        assert json.loads(await tail.line()) == live and live["seq"] == 212
    finally:
        await tail.stop()
        await server.close()


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


async def test_moderate_mutes_whoever_posts_a_banned_phrase_but_not_itself_owners_or_moderators(
    chat_url: str, make_client: ClientFactory, tmp_path: Path
) -> None:
    """The moderator made #desk, so owns it; #general it only reads. The spammer who posts a banned phrase
    (any letter case) and the one who edits a message into another are muted for the minutes asked; the
    owner, a moderator and an innocent user are left alone; a mute where it moderates nothing is refused."""
    owner = await make_client("deskowner")
    assert (await owner.request("POST", "/api/channels", {"name": "desk"}))[0] == 201
    mod, spammer, sly, innocent = [await make_client(n) for n in ("deskmod", "spammer", "sly", "innocent")]
    assert (await owner.request("PUT", "/api/channels/desk/members/deskmod", {"role": "moderator"}))[0] == 200
    for client in (owner, mod, spammer, sly, innocent):
        for channel in ("desk", "general"):
            assert (await client.call("join", {"channel": channel}))["ok"]
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("# pump and dump talk\n\nto the moon\n", encoding="utf-8")
    bot = await Running.start(
        example("moderate.py"),
        "desk",
        "general",
        "--phrase",
        "Guaranteed Returns",
        "--phrases-file",
        str(phrases),
        "--minutes",
        "5",
        env=script_env(chat_url, "deskowner", PASSWORD),
    )
    try:
        assert [await bot.line(), await bot.line()] == [
            "watching #desk as owner",
            "watching #general as no role: not a moderator there, its mutes will be refused",
        ]
        await post(owner, "desk", "no guaranteed returns here, folks")  # itself: no line (the next is deskmod's)
        (modded,) = await post(mod, "desk", "AAPL to the moon? no")
        assert await bot.line() == f"left deskmod alone in #desk (an owner or moderator) at seq {modded['seq']}"
        await post(innocent, "desk", "returns are never guaranteed", "the moon is far")
        (spam,) = await post(spammer, "desk", "GUARANTEED returns, DM me")
        line = await bot.line()
        assert line.startswith("muted spammer in #desk until ") and line.endswith(
            f"for 'Guaranteed Returns' at seq {spam['seq']}"
        )
        until = line.split(" until ")[1].split(" ")[0]
        event = await innocent.wait_for("channel_event", lambda e: e["kind"] == "muted")
        assert (event["target"], event["by"], event["until"], event["reason"]) == (
            "spammer", "deskowner", until, "posted 'Guaranteed Returns'"
        )  # fmt: skip
        minutes = (datetime.fromisoformat(until) - datetime.fromisoformat(spam["ts"])).total_seconds() / 60
        assert 4.9 < minutes < 5.1
        refused = await spammer.call("send", {"channel": "desk", "text": "why can I not post?"})
        assert refused["error"]["code"] == "muted" and refused["error"]["until"] == until

        (hello,) = await post(sly, "desk", "hello all")
        edited = await sly.call("edit", {"channel": "desk", "id": hello["id"], "text": "hello all, TO THE MOON"})
        assert edited["ok"]
        assert (await bot.line()).startswith("muted sly in #desk until ")
        assert (await sly.call("send", {"channel": "desk", "text": "hm"}))["error"]["code"] == "muted"

        await post(spammer, "general", "guaranteed returns in general too")
        assert (await bot.line()).startswith(
            "could not mute spammer in #general: this account is not an owner or moderator there (forbidden: "
        )
        for client in (owner, mod, innocent):
            assert (await client.call("send", {"channel": "desk", "text": "still here"}))["ok"]
        assert (await spammer.call("send", {"channel": "general", "text": "not muted here"}))["ok"]
        mutes = [e["target"] for e in owner.received("channel_event") if e["kind"] == "muted"]
        assert mutes == ["spammer", "sly"]
    finally:
        await bot.stop()

    code, _, err = await run(example("moderate.py"), "desk", env=script_env(chat_url, "deskowner", PASSWORD))
    assert code == 2 and "--phrase" in err


async def test_search_export_writes_the_hits_newest_first_as_csv(
    chat_url: str, make_client: ClientFactory, tmp_path: Path
) -> None:
    """The hits of words, a channel, an author, a cashtag and a limit, paged through next_before, as the
    CSV rows a spreadsheet opens: a private channel the exporter is not in never shows."""
    alice, bob, carol = await make_client("alice"), await make_client("bob"), await make_client("carol")
    assert (await alice.request("POST", "/api/channels", {"name": "desk"}))[0] == 201
    assert (await carol.request("POST", "/api/channels", {"name": "vault", "visibility": "private"}))[0] == 201
    await post(carol, "vault", "guidance: the vault's own $TSLA view")
    general = await post(alice, "general", 'Guidance raised, "finally", $TSLA and $nvda\nsecond line', "no match")
    desk = await post(bob, "desk", "guidance cut at $AAPL", "café guidance, $TSLA again")
    env = script_env(chat_url, "alice", PASSWORD)
    async with asyncio.timeout(10):  # search reads the archive, a few hundred ms behind the live feed
        while len((await alice.request("GET", "/api/search?q=guidance"))[1].get("hits", [])) < 3:
            await asyncio.sleep(0.2)

    def rows(text: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(text)))

    def row(message: dict[str, Any], cashtags: str) -> dict[str, str]:
        keys = ("ts", "channel", "seq", "id", "user", "text")
        return {**{k: str(message[k]) for k in keys}, "cashtags": cashtags}

    target = tmp_path / "hits.csv"
    code, _, err = await run(example("search_export.py"), "GUIDANCE", "--page-size", "1", "-o", str(target), env=env)
    assert code == 0, err
    assert "exported 3 hits" in err
    assert rows(target.read_text(encoding="utf-8")) == [
        row(desk[1], "TSLA"), row(desk[0], "AAPL"), row(general[0], "TSLA NVDA")
    ]  # fmt: skip
    assert target.read_text(encoding="utf-8").splitlines()[0] == "ts,channel,seq,id,user,text,cashtags"

    for flags, expected in [
        (["guidance", "--channel", "desk", "--limit", "1"], [row(desk[1], "TSLA")]),
        (["guidance", "--user", "ALICE"], [row(general[0], "TSLA NVDA")]),
        (["--cashtag", "tsla"], [row(desk[1], "TSLA"), row(general[0], "TSLA NVDA")]),
        (["cafe $TSLA"], [row(desk[1], "TSLA")]),
    ]:
        code, out, err = await run(example("search_export.py"), *flags, env=env)
        assert code == 0, err
        assert rows(out) == expected, flags

    code, _, err = await run(example("search_export.py"), "guidance", "--channel", "vault", env=env)
    assert code == 1 and "channel_not_found" in err
    code, _, err = await run(example("search_export.py"), env=env)
    assert code == 1 and "invalid_parameter" in err


async def test_alerts_from_csv_sets_each_row_and_says_which_were_refused(
    chat_url: str, make_client: ClientFactory, tmp_path: Path
) -> None:
    """The example file's alerts are all set at the fake's prices; a file with rows the server refuses prints
    the server's reason on each such row, sets the others, and exits 1."""
    trader = await make_client("trader", connect=False)
    env = script_env(chat_url, "trader", PASSWORD)
    code, out, err = await run(example("alerts_from_csv.py"), example("alerts.csv"), env=env)
    assert code == 0, err
    alerts = (await trader.request("GET", "/api/me/alerts"))[1]["alerts"][::-1]  # oldest first, as the rows
    assert [(a["symbol"], a["op"], a["value"], a["created_price"]) for a in alerts] == [
        ("AAPL.US", "above", "200", "93.42"),
        ("AAPL.US", "below", "80", "93.42"),
        ("VOD.UK", "below", "60", "72.50"),
        ("^SPX", "move_pct", "5", "5123.40"),
    ]
    until = [a["expires_at"][:10] for a in alerts]
    assert out.splitlines() == [
        f"row 2: created {alerts[0]['id']}: AAPL.US above 200 USD (now 93.42), until {until[0]}",
        f"row 3: created {alerts[1]['id']}: AAPL.US below 80 USD (now 93.42), until {until[1]}",
        f"row 4: created {alerts[2]['id']}: VOD.UK below 60 GBX (now 72.50), until {until[2]}",
        f"row 5: created {alerts[3]['id']}: ^SPX move_pct 5% (now 5123.40), until {until[3]}",
    ]
    assert "4 alerts set, 0 refused" in err

    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "symbol,op,value,days\nAAPL,above,90,\n\nNOSUCH,above,5,\nAAPL,sideways,5,\nAAPL,above,300,7\nAAPL,above,310,x\n",
        encoding="utf-8",
    )
    code, out, err = await run(example("alerts_from_csv.py"), str(mixed), env=env)
    assert code == 1, err
    lines = out.splitlines()
    assert len(lines) == 5 and "1 alerts set, 4 refused" in err
    assert lines[0].startswith("row 2: refused AAPL above 90: already_crossed: AAPL.US is already above $90.00")
    assert lines[1].startswith("row 4: refused NOSUCH above 5: unknown_symbol: ")
    assert lines[2].startswith("row 5: refused AAPL sideways 5: invalid_payload: op: ")
    assert lines[3].startswith("row 6: created ") and "AAPL.US above 300 USD" in lines[3]
    assert lines[4].startswith("row 7: refused AAPL above 310: invalid_days: ")
    assert len((await trader.request("GET", "/api/me/alerts"))[1]["alerts"]) == 5

    headless = tmp_path / "headless.csv"
    headless.write_text("AAPL,above,200\n", encoding="utf-8")
    code, out, err = await run(example("alerts_from_csv.py"), str(headless), env=env)
    assert (code, out) == (2, "") and "the header row lacks symbol, op, value" in err
