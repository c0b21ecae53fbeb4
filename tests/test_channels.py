"""Channels over REST with live `channel_created` to every connected client."""

from __future__ import annotations

import pytest

from tests.apps import ClientFactory


async def test_general_exists_and_new_channels_reach_everyone_live(make_client: ClientFactory) -> None:
    alice = await make_client("alice")
    bob = await make_client("bob")
    status, body = await alice.request("GET", "/api/channels")
    assert status == 200 and [c["name"] for c in body["channels"]] == ["general"]

    status, created = await alice.request("POST", "/api/channels", {"name": "Earnings-Q3"})
    assert status == 201
    assert created["name"] == "earnings-q3" and created["created_by"] == "alice"
    assert await bob.wait_for("channel_created") == created

    await alice.request("POST", "/api/channels", {"name": "crypto"})
    status, body = await bob.request("GET", "/api/channels")
    assert [c["name"] for c in body["channels"]] == ["crypto", "earnings-q3", "general"]

    joined = await bob.call("join", {"channel": "earnings-q3"})
    assert joined["ok"] and joined["messages"] == [] and joined["last_seq"] == 0


@pytest.mark.parametrize("name", ["ab", "x" * 51, "bad name", "semi;colon", "ümlaut", ""])
async def test_bad_channel_names_are_refused(make_client: ClientFactory, name: str) -> None:
    alice = await make_client("alice", connect=False)
    status, body = await alice.request("POST", "/api/channels", {"name": name})
    assert status == 400 and body["error"]["code"] == "invalid_channel_name"


async def test_a_channel_name_is_unique(make_client: ClientFactory) -> None:
    alice = await make_client("alice", connect=False)
    assert (await alice.request("POST", "/api/channels", {"name": "macro"}))[0] == 201
    status, body = await alice.request("POST", "/api/channels", {"name": "MACRO"})
    assert status == 409 and body["error"]["code"] == "channel_exists"
    status, body = await alice.request("POST", "/api/channels", {"name": "general"})
    assert status == 409


async def test_channels_need_a_session(make_client: ClientFactory) -> None:
    anonymous = await make_client("alice", connect=False)
    anonymous.token = ""
    assert (await anonymous.request("GET", "/api/channels"))[0] == 401
    assert (await anonymous.request("POST", "/api/channels", {"name": "sneaky"}))[0] == 401
