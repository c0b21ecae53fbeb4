"""Site administration on the standalone app: roles from the command line, invites and registration modes,
suspension that ends every session at once, the audit log and the direct-message picker's user search."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestServer

from server import admin_api, admin_cli, realtime
from tests.apps import PASSWORD, ChatClient, ClientFactory, code, http_session

StartServer = Callable[..., Awaitable[TestServer]]
MANY = {"login_burst": 1000, "login_rate": 100.0}  # these tests register more users than one address may at once


def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/chat.sqlite3"  # tests/apps.py settings_for's store


async def cli(tmp_path: Path, *args: str) -> int:
    """`investor-chat admin ARGS` in this process, on the running app's SQLite file (the command's own loop
    runs in a thread, beside the test's)."""
    return await asyncio.to_thread(admin_cli.main, [*args, "--storage-url", store_url(tmp_path)])


async def make_admin(make_client: ClientFactory, tmp_path: Path, name: str = "chief", **kw: Any) -> ChatClient:
    client = await make_client(name, connect=False, **kw)
    assert await cli(tmp_path, "grant", name, "admin") == 0
    return client


async def start(make_server: StartServer, **overrides: Any) -> str:
    server = await make_server(**{**MANY, **overrides})
    return str(server.make_url("")).rstrip("/")


async def register(http: aiohttp.ClientSession, url: str, username: str, invite: str | None = None) -> tuple[int, Any]:
    body = {"username": username, "password": PASSWORD} | ({"invite": invite} if invite else {})
    async with http.post(f"{url}/api/register", json=body) as resp:
        return resp.status, await resp.json()


async def login(http: aiohttp.ClientSession, url: str, username: str) -> tuple[int, Any]:
    async with http.post(f"{url}/api/login", json={"username": username, "password": PASSWORD}) as resp:
        return resp.status, await resp.json()


async def disconnected(client: ChatClient, within: float) -> bool:
    async with asyncio.timeout(within):
        while client.sio.connected:
            await asyncio.sleep(0.02)
    return True


async def test_roles_granted_on_the_command_line_show_in_me_and_open_the_admin_api(
    make_client: ClientFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alice = await make_client("alice", connect=False)
    assert await alice.request("GET", "/api/me") == (200, {"username": "alice", "roles": ["user"]})
    assert code(await alice.request("GET", "/api/admin/users")) == (403, "forbidden")

    assert await cli(tmp_path, "grant", "ALICE", "admin") == 0  # names in any letter case
    assert capsys.readouterr().out == "alice: site roles user, admin\n"
    assert await alice.request("GET", "/api/me") == (200, {"username": "alice", "roles": ["user", "admin"]})
    status, body = await alice.request("GET", "/api/admin/users")
    assert status == 200 and body["users"][0] | {"created_at": ""} == {
        "username": "alice",
        "roles": ["user", "admin"],
        "suspended": False,
        "created_at": "",
    }

    # the installed command, as an operator types it, with the server running
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "admin", "grant", "alice", "compliance", "--storage-url", store_url(tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await done.communicate()
    assert done.returncode == 0, err
    assert out.decode() == "alice: site roles user, admin, compliance\n"
    assert (await alice.request("GET", "/api/me"))[1]["roles"] == ["user", "admin", "compliance"]

    assert await cli(tmp_path, "revoke", "alice", "compliance") == 0
    status, body = await alice.request("GET", "/api/admin/audit")
    assert status == 200
    assert [(e["actor"], e["action"], e["target"], e["details"]) for e in body["entries"]] == [
        (None, "role.revoke", "alice", {"role": "compliance"}),
        (None, "role.grant", "alice", {"role": "compliance"}),
        (None, "role.grant", "alice", {"role": "admin"}),
    ]


async def test_every_admin_route_refuses_users_without_the_role(
    make_client: ClientFactory, tmp_path: Path, chat_url: str
) -> None:
    await make_client("bob", connect=False)
    mallory = await make_client("mallory", connect=False)
    auditor = await make_client("auditor", connect=False)
    assert await cli(tmp_path, "grant", "auditor", "compliance") == 0
    admin_routes = [r for r in admin_api.ROUTES if r.path != "/api/users"]
    assert len(admin_routes) == 8
    for route in admin_routes:
        path = route.path.format(username="bob", role="admin")
        body: dict[str, Any] | None = {} if route.method in ("POST", "PUT") else None
        assert code(await mallory.request(route.method, path, body)) == (403, "forbidden"), route
        assert code(await ChatClient(chat_url, mallory.http).request(route.method, path, body)) == (
            401,
            "unauthorized",
        )
        expected = (200, "") if route.path == "/api/admin/audit" else (403, "forbidden")
        assert code(await auditor.request(route.method, path, body)) == expected, route
    _, body = await auditor.request("GET", "/api/me")
    assert body["roles"] == ["user", "compliance"]
    assert (await mallory.request("GET", "/api/me"))[1]["roles"] == ["user"]  # nothing was granted on the way


async def test_admins_manage_roles_but_not_their_own_admin_role(make_client: ClientFactory, tmp_path: Path) -> None:
    root = await make_admin(make_client, tmp_path)
    await make_client("carol", connect=False)
    assert await root.request("PUT", "/api/admin/users/Carol/roles/admin") == (
        200,
        {"username": "carol", "roles": ["user", "admin"]},
    )
    assert await root.request("PUT", "/api/admin/users/carol/roles/compliance") == (
        200,
        {"username": "carol", "roles": ["user", "admin", "compliance"]},
    )
    assert code(await root.request("PUT", "/api/admin/users/carol/roles/owner")) == (400, "invalid_role")
    assert code(await root.request("PUT", "/api/admin/users/carol/roles/user")) == (400, "invalid_role")
    assert code(await root.request("PUT", "/api/admin/users/nobody/roles/admin")) == (404, "user_not_found")
    assert code(await root.request("DELETE", "/api/admin/users/chief/roles/admin")) == (403, "forbidden")
    # another admin may: the site never loses its admins to one slip
    carol = ChatClient(root.base_url, root.http)
    carol.token = (await login(root.http, root.base_url, "carol"))[1]["token"]
    assert await carol.request("DELETE", "/api/admin/users/chief/roles/admin") == (
        200,
        {"username": "chief", "roles": ["user"]},
    )
    assert code(await root.request("GET", "/api/admin/users")) == (403, "forbidden")  # at its next request
    _, body = await carol.request("GET", "/api/admin/audit")
    assert [(e["actor"], e["action"], e["target"]) for e in body["entries"][:3]] == [
        ("carol", "role.revoke", "chief"),
        ("chief", "role.grant", "carol"),
        ("chief", "role.grant", "carol"),
    ]


async def test_a_cookie_session_changes_nothing_from_a_foreign_page(make_client: ClientFactory, tmp_path: Path) -> None:
    await make_admin(make_client, tmp_path)
    async with http_session() as http:
        url = (await make_client("dora", connect=False)).base_url
        assert (await login(http, url, "chief"))[0] == 200  # the cookie is set
        async with http.post(f"{url}/api/invites", json={}, headers={"Origin": "https://evil.example"}) as resp:
            assert (resp.status, (await resp.json())["error"]["code"]) == (403, "forbidden_origin")
        async with http.post(f"{url}/api/admin/users/dora/suspend", headers={"Origin": url}) as resp:
            assert resp.status == 200  # from the chat's own page it works


async def test_invite_codes_single_and_multi_use(make_server: StartServer, tmp_path: Path) -> None:
    url = await start(make_server, registration="invite")
    async with http_session() as http:
        assert code(await register(http, url, "first")) == (403, "invite_required")
        assert await cli(tmp_path, "grant", "first", "admin") == 1  # nobody got in
    # the first admin: an invite from the command line
    root_code = await invite_from_cli(tmp_path)
    async with http_session() as http:
        assert (await register(http, url, "chief", root_code))[0] == 201
    assert await cli(tmp_path, "grant", "chief", "admin") == 0
    root = ChatClient(url, http_session())
    root.token = (await login(root.http, url, "chief"))[1]["token"]
    try:
        status, single = await root.request("POST", "/api/invites", {})
        assert status == 201 and single["uses_left"] == 1 and single["created_by"] == "chief"
        assert len(single["code"]) == 16 and single["expires_at"] > single["created_at"]
        status, multi = await root.request("POST", "/api/invites", {"uses": 3, "hours": 1})
        assert status == 201 and multi["uses_left"] == 3
        assert code(await root.request("POST", "/api/invites", {"uses": 1001})) == (400, "invalid_payload")
        assert code(await root.request("POST", "/api/invites", {"hours": 721})) == (400, "invalid_payload")

        async with http_session() as http:
            # a bad name or password spends nothing
            assert code(await register(http, url, "x", single["code"])) == (400, "invalid_username")
            assert code(await register(http, url, "chief", single["code"])) == (409, "username_taken")
            assert code(await register(http, url, "eve", "not-a-code")) == (403, "invite_required")
            assert (await register(http, url, "eve", single["code"]))[0] == 201
            assert code(await register(http, url, "eve2", single["code"])) == (403, "invite_required")  # spent
            for name in ("member1", "member2", "member3"):
                assert (await register(http, url, name, multi["code"]))[0] == 201
            assert code(await register(http, url, "member4", multi["code"])) == (403, "invite_required")

        status, body = await root.request("GET", "/api/invites")
        assert status == 200 and body["invites"] == []  # none has uses left
        status, kept = await root.request("POST", "/api/invites", {"uses": 2})
        assert [i["code"] for i in (await root.request("GET", "/api/invites"))[1]["invites"]] == [kept["code"]]
        status, body = await root.request("GET", "/api/admin/audit")
        creations = [e for e in body["entries"] if e["action"] == "invite.create"]
        assert [(e["actor"], e["details"]["uses"]) for e in creations] == [
            ("chief", 2),
            ("chief", 3),
            ("chief", 1),
            (None, 1),
        ]
    finally:
        await root.http.close()


async def invite_from_cli(tmp_path: Path, *args: str) -> str:
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "admin", "invite", *args, "--storage-url", store_url(tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await done.communicate()
    assert done.returncode == 0, err
    return out.decode().strip()  # the code alone on standard output, for scripts


async def test_an_expired_invite_is_refused(make_server: StartServer, tmp_path: Path) -> None:
    url = await start(make_server, registration="invite")
    invite = await invite_from_cli(tmp_path, "--uses", "5")
    with sqlite3.connect(tmp_path / "chat.sqlite3") as db:
        db.execute("UPDATE invites SET expires_at = '2020-01-01T00:00:00.000Z' WHERE code = ?", (invite,))
    async with http_session() as http:
        assert code(await register(http, url, "late", invite)) == (403, "invite_required")


async def test_concurrent_registrations_spend_the_last_use_once(make_server: StartServer, tmp_path: Path) -> None:
    url = await start(make_server, registration="invite")
    invite = await invite_from_cli(tmp_path, "--uses", "2")
    async with http_session() as http:
        assert (await register(http, url, "early", invite))[0] == 201
        replies = await asyncio.gather(*(register(http, url, f"racer{i}", invite) for i in range(8)))
    assert sorted(code(reply) for reply in replies) == [(201, "")] + [(403, "invite_required")] * 7


async def test_closed_registration_keeps_existing_accounts(make_server: StartServer) -> None:
    open_url = await start(make_server)
    closed_url = await start(make_server, registration="closed")  # the same store
    async with http_session() as http:
        assert (await register(http, open_url, "old"))[0] == 201
        assert code(await register(http, closed_url, "new")) == (403, "registration_closed")
        assert (await login(http, closed_url, "old"))[0] == 200


async def test_suspension_ends_every_session_at_once_and_lifting_restores_login(
    make_client: ClientFactory, tmp_path: Path, chat_url: str
) -> None:
    root = await make_admin(make_client, tmp_path)
    bob = await make_client("bob")
    second = ChatClient(chat_url, bob.http)
    second.token = bob.token
    await second.connect()
    assert (await bob.call("join", {"channel": "general"}))["ok"]

    assert await root.request("POST", "/api/admin/users/bob/suspend") == (200, {"username": "bob", "suspended": True})
    assert await disconnected(bob, within=1) and await disconnected(second, within=1)
    assert code(await bob.request("GET", "/api/me")) == (401, "unauthorized")
    assert code(await login(bob.http, chat_url, "bob")) == (403, "account_suspended")
    again = ChatClient(chat_url, bob.http)
    again.token = bob.token
    with pytest.raises(socketio.exceptions.ConnectionError):
        await again.connect()
    status, body = await root.request("GET", "/api/admin/users?prefix=b")
    assert body["users"] == [
        {"username": "bob", "roles": ["user"], "suspended": True, "created_at": body["users"][0]["created_at"]}
    ]
    assert code(await root.request("POST", "/api/admin/users/chief/suspend")) == (403, "forbidden")
    assert code(await root.request("POST", "/api/admin/users/ghost/suspend")) == (404, "user_not_found")

    assert await root.request("DELETE", "/api/admin/users/bob/suspend") == (
        200,
        {"username": "bob", "suspended": False},
    )
    status, body = await login(bob.http, chat_url, "bob")
    assert status == 200
    bob.token = body["token"]
    assert (await bob.request("GET", "/api/me"))[0] == 200
    status, body = await root.request("GET", "/api/admin/audit")
    assert [(e["actor"], e["action"], e["target"]) for e in body["entries"][:2]] == [
        ("chief", "user.unsuspend", "bob"),
        ("chief", "user.suspend", "bob"),
    ]


async def test_a_suspension_from_the_command_line_closes_open_sockets_at_the_next_sweep(
    make_server: StartServer, make_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(realtime, "SESSION_SWEEP_SECONDS", 0.2)  # read when the app starts
    url = await start(make_server)
    bob = await make_client("bob", url=url)
    carol = await make_client("carol", url=url)
    assert await cli(tmp_path, "suspend", "bob") == 0
    assert await disconnected(bob, within=2)
    await asyncio.sleep(0.5)
    assert carol.sio.connected  # nobody else
    assert await cli(tmp_path, "unsuspend", "bob") == 0
    assert (await login(bob.http, url, "bob"))[0] == 200


async def test_audit_pages_back_with_next_before(make_client: ClientFactory, tmp_path: Path) -> None:
    root = await make_admin(make_client, tmp_path)
    auditor = await make_client("auditor", connect=False)
    assert await cli(tmp_path, "grant", "auditor", "compliance") == 0
    for uses in range(1, 6):
        assert (await root.request("POST", "/api/invites", {"uses": uses}))[0] == 201
    seen: list[dict[str, Any]] = []
    before = ""
    while True:
        status, page = await auditor.request("GET", f"/api/admin/audit?limit=2&before={before}")
        assert status == 200 and len(page["entries"]) <= 2
        seen += page["entries"]
        if page["next_before"] is None:
            break
        assert page["next_before"] == page["entries"][-1]["id"]
        before = page["next_before"]
    assert [(e["action"], e["details"].get("uses") or e["details"].get("role")) for e in seen] == [
        ("invite.create", 5),
        ("invite.create", 4),
        ("invite.create", 3),
        ("invite.create", 2),
        ("invite.create", 1),
        ("role.grant", "compliance"),
        ("role.grant", "admin"),
    ]
    assert [e["id"] for e in seen] == sorted((e["id"] for e in seen), reverse=True)
    assert code(await auditor.request("GET", "/api/admin/audit?limit=201")) == (400, "invalid_parameter")
    assert code(await auditor.request("GET", "/api/admin/audit?before=zz")) == (400, "invalid_parameter")


async def test_user_search_finds_names_by_prefix_without_suspended_accounts(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    root = await make_admin(make_client, tmp_path)
    for name in ("Dan", "dave", "dana_k", "don"):
        await make_client(name, connect=False)
    searcher = await make_client("erin", connect=False)
    assert await searcher.request("GET", "/api/users?prefix=DA") == (
        200,
        {"users": [{"username": "Dan"}, {"username": "dana_k"}, {"username": "dave"}]},
    )
    assert await searcher.request("GET", "/api/users?prefix=da&limit=2") == (
        200,
        {"users": [{"username": "Dan"}, {"username": "dana_k"}]},
    )
    assert await searcher.request("GET", "/api/users?prefix=d_") == (200, {"users": []})  # `_` is a letter here
    assert (await root.request("POST", "/api/admin/users/dave/suspend"))[0] == 200
    assert await searcher.request("GET", "/api/users?prefix=da") == (
        200,
        {"users": [{"username": "Dan"}, {"username": "dana_k"}]},
    )
    assert code(await searcher.request("GET", "/api/users?limit=51")) == (400, "invalid_parameter")
    assert code(await ChatClient(searcher.base_url, searcher.http).request("GET", "/api/users")) == (
        401,
        "unauthorized",
    )
