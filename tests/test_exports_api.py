"""Export jobs over REST through the standalone app, on SQLite and MongoDB (docs/protocol.md#export): a job
started by an admin or compliance runs in the background to done with its progress, and downloads as a zip
whose files match its manifest; a plain user is refused; an admin exports only what it may read; one running
job per user and two per node; a job whose node stopped reads failed "interrupted"; each step audited."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import socket
import zipfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from core.exports.job import ExportJob
from core.journal import JournalEntry
from core.models import iso, ordered_id, utcnow
from core.store import Store, open_store
from server import export_jobs
from server.app_keys import STORE
from server.exports_api import EXPORT_JOBS
from tests.apps import ChatClient, ClientFactory, code, with_role

StartServer = Callable[..., Awaitable[TestServer]]
MANY = {"login_burst": 1000, "login_rate": 100.0}
TODAY = utcnow().date()
RANGE = {"from": (TODAY - timedelta(days=1)).isoformat(), "to": (TODAY + timedelta(days=1)).isoformat()}
NODE = f"{socket.gethostname()}:8080"  # the standalone node's name: its host and CHAT_PORT


@pytest.fixture
async def chat_server(make_server: StartServer, fake_stooq: Any, store_url: str, tmp_path: Path) -> TestServer:
    return await make_server(
        stooq_url=fake_stooq.url, storage_url=store_url, export_dir=str(tmp_path / "exports"), **MANY
    )


@pytest.fixture
def store(chat_server: TestServer) -> Store:
    return chat_server.app[STORE]


async def say(client: ChatClient, channel: str, text: str, **extra: Any) -> dict[str, Any]:
    ack = await client.call("send", {"channel": channel, "text": text, **extra})
    assert ack["ok"], ack
    return dict(ack["message"])


async def archived(store: Store, channel: str, seq: int) -> None:
    """Wait for the standalone archiver to have chained the channel up to `seq`."""
    async with asyncio.timeout(10):
        while {name: last for name, last, _ in await store.journal_heads()}.get(channel, 0) < seq:
            await asyncio.sleep(0.02)


async def a_morning(make_client: ClientFactory, store: Store) -> tuple[ChatClient, ChatClient]:
    """#general: a post, a reply, its edit, a reaction, a mute and a deletion by the admin `chief`; the private
    #vault of carol, where chief is no member. Returns chief and the compliance officer `auditor`."""
    chief = await (await with_role(make_client, store, "chief", "admin")).connect()  # a socket has its roles
    auditor = await with_role(make_client, store, "auditor", "compliance")
    alice, bob, carol = [await make_client(name) for name in ("alice", "bob", "carol")]
    for client in (alice, bob, chief):
        assert (await client.call("join", {"channel": "general"}))["ok"]
    root = await say(alice, "general", "$VOD looks cheap here")
    reply = await say(bob, "general", "buy buy buy, guaranteed 10x", reply_to=root["id"])
    assert (await alice.call("edit", {"channel": "general", "id": root["id"], "text": "$VOD looks cheap, 72p"}))["ok"]
    assert (await bob.call("react", {"channel": "general", "id": root["id"], "emoji": "🐂"}))["ok"]
    assert (await chief.request("POST", "/api/channels/general/mutes", {"username": "bob", "minutes": 5}))[0] == 200
    assert (await chief.call("delete", {"channel": "general", "id": reply["id"]}))["ok"]
    assert (await carol.request("POST", "/api/channels", {"name": "vault", "visibility": "private"}))[0] == 201
    assert (await carol.call("join", {"channel": "vault"}))["ok"]
    await say(carol, "vault", "the vault code is 31-41-59")
    await archived(store, "general", 6)
    await archived(store, "vault", 1)
    return chief, auditor


async def finished(client: ChatClient, job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            status, job = await client.request("GET", f"/api/admin/exports/{job_id}")
            assert status == 200, job
            if job["status"] != "running":
                return dict(job)
            await asyncio.sleep(0.05)


async def download(client: ChatClient, job_id: str) -> tuple[int, bytes, Any]:
    headers = {"Authorization": f"Bearer {client.token}"}
    async with client.http.get(f"{client.base_url}/api/admin/exports/{job_id}/download", headers=headers) as resp:
        return resp.status, await resp.read(), resp.headers


def unzipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())
        return {name: archive.read(name) for name in archive.namelist()}


async def audited(client: ChatClient, *actions: str) -> list[tuple[Any, ...]]:
    status, body = await client.request("GET", "/api/admin/audit")
    assert status == 200, body
    return [(e["actor"], e["action"], e.get("target")) for e in reversed(body["entries"]) if e["action"] in actions]


async def test_an_export_job_runs_to_done_and_downloads_as_a_zip_matching_its_manifest(
    make_client: ClientFactory, store: Store
) -> None:
    chief, auditor = await a_morning(make_client, store)
    mallory = await make_client("mallory", connect=False)
    asked = {**RANGE, "format": "jsonl"}
    assert code(await mallory.request("POST", "/api/admin/exports", asked)) == (403, "forbidden")
    assert code(await mallory.request("GET", "/api/admin/exports")) == (403, "forbidden")

    status, job = await chief.request("POST", "/api/admin/exports", asked)
    assert status == 202, job
    assert job | {"id": "", "created_at": "", "progress": {}} == {
        "id": "", "status": "running", "format": "jsonl", **RANGE, "channels": None, "progress": {},
        "created_by": "chief", "created_at": "", "finished_at": None, "files": None, "size": None,
        "manifest": None, "error": None,
    }  # fmt: skip
    assert code(await mallory.request("GET", f"/api/admin/exports/{job['id']}")) == (403, "forbidden")
    assert (await download(mallory, job["id"]))[0] == 403
    done = await finished(chief, job["id"])
    # chief may read #general, not carol's private #vault: the export holds what chief could read
    assert (done["status"], done["progress"]) == ("done", {"events": 6, "channels_done": 1, "channels": 1})

    status, data, headers = await download(chief, job["id"])
    assert status == 200 and headers["Content-Type"] == "application/zip"
    assert (
        headers["Content-Disposition"]
        == f'attachment; filename="investor-chat-export-{RANGE["from"]}-{RANGE["to"]}-{job["id"]}.zip"'
    )
    files = unzipped(data)
    manifest = json.loads(files.pop("manifest.json"))
    assert set(files) == {"general.jsonl"} and (done["files"], done["size"]) == (2, len(data))
    assert manifest["files"] == {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    assert done["manifest"] == hashlib.sha256(unzipped(data)["manifest.json"]).hexdigest()
    exported = [JournalEntry.model_validate_json(line) for line in files["general.jsonl"].splitlines()]
    assert exported == [entry async for entry in store.journal_scan("general")]
    texts = [e.record["text"] for e in exported if e.kind == "message" and e.record]
    assert texts == ["$VOD looks cheap here", "buy buy buy, guaranteed 10x"]  # the originals, edited and deleted since
    assert [(e.record or {}).get("kind") for e in exported if e.kind != "message"] == [
        "edit",
        "react",
        "muted",
        "delete",
    ]

    status, listed = await chief.request("GET", "/api/admin/exports")
    assert status == 200 and listed == {"exports": [done]}
    assert await audited(auditor, "export.requested", "export.done", "export.downloaded") == [
        ("chief", "export.requested", job["id"]), ("chief", "export.done", job["id"]),
        ("chief", "export.downloaded", job["id"]),
    ]  # fmt: skip


async def test_compliance_exports_any_channel_and_an_admin_only_what_it_may_read(
    make_client: ClientFactory, store: Store
) -> None:
    chief, auditor = await a_morning(make_client, store)
    for name in ("vault", "nosuchroom"):  # a private channel is, to an outsider, one that does not exist
        reply = await chief.request("POST", "/api/admin/exports", {**RANGE, "format": "csv", "channels": [name]})
        assert reply == (404, {"error": {"code": "channel_not_found", "message": f"No channel #{name}"}})
    status, job = await auditor.request("POST", "/api/admin/exports", {**RANGE, "format": "eml", "channels": ["vault"]})
    assert status == 202, job
    assert (await finished(auditor, job["id"]))["progress"] == {"events": 1, "channels_done": 1, "channels": 1}
    files = unzipped((await download(auditor, job["id"]))[1])
    assert set(files) == {"vault/1.eml", "manifest.json"}
    assert b"the vault code is 31-41-59" in files["vault/1.eml"]
    # chief neither sees nor downloads the compliance officer's export of a channel closed to him
    assert code(await chief.request("GET", f"/api/admin/exports/{job['id']}")) == (404, "export_not_found")
    assert (await download(chief, job["id"]))[0] == 404
    assert (await chief.request("GET", "/api/admin/exports"))[1] == {"exports": []}
    mine = (await chief.request("POST", "/api/admin/exports", {**RANGE, "format": "csv"}))[1]
    await finished(chief, mine["id"])
    status, listed = await auditor.request("GET", "/api/admin/exports")
    assert [j["id"] for j in listed["exports"]] == [mine["id"], job["id"]]  # every job, newest first
    assert code(await auditor.request("POST", "/api/admin/exports", {**RANGE, "format": "pdf"})) == (
        400,
        "invalid_payload",
    )
    bad_range = {"from": RANGE["to"], "to": RANGE["from"], "format": "csv"}
    assert code(await auditor.request("POST", "/api/admin/exports", bad_range)) == (400, "invalid_payload")
    assert code(await auditor.request("GET", "/api/admin/exports/0123")) == (404, "export_not_found")


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Jobs that stay running, a file half written, until the event is set (exports that take long); then
    they export as ever."""
    release = asyncio.Event()
    real = export_jobs.export

    async def export_later(store: Store, spec: Any, out: Path, **kwargs: Any) -> Any:
        if not release.is_set():
            out.mkdir(parents=True)
            (out / "general.csv").write_text("seq,ts,kind\r\n1,")
            await release.wait()
        return await real(store, spec, out, **kwargs)

    monkeypatch.setattr(export_jobs, "export", export_later)
    return release


async def test_one_running_job_per_user_two_per_node_and_a_stopped_node_leaves_them_interrupted(
    make_client: ClientFactory, make_server: StartServer, chat_server: TestServer, store: Store, store_url: str,
    tmp_path: Path, held: asyncio.Event,
) -> None:  # fmt: skip
    chief, auditor = [
        await with_role(make_client, store, name, role)
        for name, role in (("chief", "admin"), ("auditor", "compliance"))
    ]
    deputy = await with_role(make_client, store, "deputy", "admin")
    asked = {**RANGE, "format": "csv"}
    first = (await chief.request("POST", "/api/admin/exports", asked))[1]
    assert code(await chief.request("POST", "/api/admin/exports", asked)) == (409, "export_running")
    assert (await auditor.request("POST", "/api/admin/exports", asked))[0] == 202
    assert code(await deputy.request("POST", "/api/admin/exports", asked)) == (503, "busy")  # two on this node
    assert {j.created_by for j in await store.list_exports(10, status="running")} == {"chief", "auditor"}

    await chat_server.close()  # a node shutting down stops its jobs, and says so
    reopened = await open_store(store_url)
    try:
        jobs = await reopened.list_exports(10)
    finally:
        await reopened.close()
    assert {(j.created_by, j.status, j.error) for j in jobs} == {
        ("chief", "failed", "interrupted"),
        ("auditor", "failed", "interrupted"),
    }
    assert all(j.finished_at for j in jobs) and list((tmp_path / "exports").iterdir()) == []  # nothing half written

    held.set()
    url = str((await make_server(storage_url=store_url, export_dir=str(tmp_path / "exports"), **MANY)).make_url(""))
    chief.base_url = url.rstrip("/")
    status, again = await chief.request("POST", "/api/admin/exports", asked)
    assert status == 202, again
    assert (await finished(chief, again["id"]))["status"] == "done"
    status, listed = await chief.request("GET", "/api/admin/exports")
    assert [(j["id"], j["status"], j["error"]) for j in listed["exports"]] == [
        (again["id"], "done", None), (first["id"], "failed", "interrupted")
    ]  # fmt: skip


def left_running(created_by: str, node: str, beat_at: str) -> ExportJob:
    now = utcnow()
    return ExportJob.model_validate(
        {"id": ordered_id(now.timestamp()), "status": "running", "format": "jsonl", **RANGE, "created_by": created_by,
         "created_at": iso(now), "node": node, "beat_at": beat_at}
    )  # fmt: skip


async def test_jobs_of_a_killed_node_read_interrupted_once_it_restarts_or_falls_silent(
    make_client: ClientFactory, make_server: StartServer, store_url: str, tmp_path: Path
) -> None:
    before = await open_store(store_url)
    now = utcnow()
    # what a node killed mid-export leaves: its jobs still marked running; another node's, beating or silent
    killed = left_running("chief", NODE, iso(now))
    elsewhere = left_running("auditor", "elsewhere:8080", iso(now))
    silent = left_running("deputy", "gone:8080", iso(now - timedelta(minutes=5)))
    try:
        for job in (killed, elsewhere, silent):
            await before.save_export(job)
    finally:
        await before.close()
    server = await make_server(storage_url=store_url, export_dir=str(tmp_path / "exports"), **MANY)
    store = server.app[STORE]
    assert (await store.get_export(killed.id) or killed).error == "interrupted"  # on the restarted node's start
    assert (await store.get_export(silent.id) or silent).error == "interrupted"
    auditor = await make_client("auditor", connect=False, url=str(server.make_url("")).rstrip("/"))
    assert await store.set_user_roles("auditor", ["compliance"])
    status, job = await auditor.request("GET", f"/api/admin/exports/{elsewhere.id}")
    assert (status, job["status"]) == (200, "running")  # its node still says it runs it
    assert code(await auditor.request("POST", "/api/admin/exports", {**RANGE, "format": "csv"})) == (
        409,
        "export_running",
    )

    server.app[EXPORT_JOBS].clock = lambda: utcnow() + export_jobs.STALE + timedelta(seconds=1)  # silent since
    status, job = await auditor.request("GET", f"/api/admin/exports/{elsewhere.id}")
    assert (job["status"], job["error"]) == ("failed", "interrupted")
    assert (await auditor.request("POST", "/api/admin/exports", {**RANGE, "format": "csv"}))[0] == 202
