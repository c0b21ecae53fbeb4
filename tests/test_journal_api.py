"""GET /api/admin/archive/heads on the standalone app (#24): admins and compliance read each channel's chain head,
the same head `investor-chat archive verify` recomputes from the store; anyone else is refused."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from core.journal import GENESIS
from server import admin_cli, archive_cli
from tests.apps import ChatClient, ClientFactory
from tests.old_stores import BEFORE_ACCESS

HEADS = "/api/admin/archive/heads"


async def grant(tmp_path: Path, name: str, role: str) -> None:
    url = f"sqlite:///{tmp_path}/chat.sqlite3"  # tests/apps.py settings_for's store
    assert await asyncio.to_thread(admin_cli.main, ["grant", name, role, "--storage-url", url]) == 0


async def general_head(client: ChatClient, seq: int) -> dict[str, Any]:
    """The head of #general once the archiver has chained up to `seq`."""
    async with asyncio.timeout(10):
        while True:
            status, body = await client.request("GET", HEADS)
            assert status == 200, body
            head = next((c for c in body["channels"] if c["name"] == "general"), None)
            if head is not None and head["last_seq"] >= seq:
                return head
            await asyncio.sleep(0.05)


async def test_admins_and_compliance_read_the_heads_verify_recomputes(
    make_client: ClientFactory, tmp_path: Path, chat_url: str, capsys: Any
) -> None:
    alice = await make_client("alice")
    chief = await make_client("chief", connect=False)
    auditor = await make_client("auditor", connect=False)
    await grant(tmp_path, "chief", "admin")
    await grant(tmp_path, "auditor", "compliance")
    await alice.call("join", {"channel": "general"})
    acks = [await alice.call("send", {"channel": "general", "text": f"morning {n}"}) for n in range(5)]
    last = acks[-1]["message"]["seq"]

    head = await general_head(chief, last)
    assert head["last_seq"] == last and len(head["chain"]) == 64 and head["first_seq"] == 1
    assert await auditor.request("GET", HEADS) == (200, {"channels": [head]})

    capsys.readouterr()
    storage = ["--storage-url", f"sqlite:///{tmp_path}/chat.sqlite3"]
    assert await asyncio.to_thread(archive_cli.main, ["verify", *storage]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"general  last_seq {last}  chain {head['chain']}"


async def test_a_plain_user_is_refused_the_heads(make_client: ClientFactory, chat_url: str) -> None:
    mallory = await make_client("mallory", connect=False)
    status, body = await mallory.request("GET", HEADS)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = await ChatClient(chat_url, mallory.http).request("GET", HEADS)  # no token at all
    assert (status, body["error"]["code"]) == (401, "unauthorized")


@pytest.fixture
def upgraded(tmp_path: Path) -> Path:
    """The standalone app's store is a file written before the journal existed (requested before the app starts)."""
    path = tmp_path / "chat.sqlite3"
    shutil.copy(BEFORE_ACCESS, path)
    return path


async def test_a_channel_archived_before_the_journal_says_where_its_chain_begins(
    upgraded: Path, make_client: ClientFactory, tmp_path: Path
) -> None:
    chief = await make_client("chief")
    await grant(tmp_path, "chief", "admin")
    status, body = await chief.request("GET", HEADS)
    assert (status, body) == (
        200,
        {
            "channels": [
                {"name": "desk", "last_seq": 3, "chain": GENESIS, "first_seq": 4},
                {"name": "general", "last_seq": 1, "chain": GENESIS, "first_seq": 2},
            ]
        },
    )
    await chief.call("join", {"channel": "general"})
    ack = await chief.call("send", {"channel": "general", "text": "after the upgrade"})
    assert ack["message"]["seq"] == 2
    head = await general_head(chief, 2)
    assert head["first_seq"] == 2 and head["chain"] != GENESIS
