"""The export-job part of the Store contract (#24), on SQLite and MongoDB through the `store` fixture: jobs kept
and read back as saved, listed newest first, and updated in one write that can require the status still be
what it was (a late progress report never brings an interrupted job back)."""

from __future__ import annotations

from core.exports.job import ExportJob, JobProgress
from core.models import ordered_id
from core.store import Store


def job(created_by: str = "alice", at: float = 1_780_000_000.0, **fields: object) -> ExportJob:
    return ExportJob.model_validate(
        {"id": ordered_id(at), "status": "running", "format": "jsonl", "from": "2026-03-01", "to": "2026-03-03",
         "created_by": created_by, "created_at": "2026-06-01T10:00:00.000Z", "node": "host:8080",
         "beat_at": "2026-06-01T10:00:00.000Z", **fields}
    )  # fmt: skip


async def test_a_job_reads_back_as_saved_and_jobs_list_newest_first(store: Store) -> None:
    first, second = job(), job("Bob", at=1_780_000_001.0, channels=["desk", "ops"], format="eml")
    third = job(at=1_780_000_002.0, status="done", files=3, size=1200, manifest="ab" * 32)
    for made in (first, second, third):
        await store.save_export(made)
    assert await store.get_export(second.id) == second
    assert await store.get_export("0" * 24) is None
    assert [j.id for j in await store.list_exports(10)] == [third.id, second.id, first.id]
    assert [j.id for j in await store.list_exports(2)] == [third.id, second.id]
    assert [j.id for j in await store.list_exports(10, status="running")] == [second.id, first.id]
    assert [j.id for j in await store.list_exports(10, status="running", created_by="ALICE")] == [first.id]
    assert [j.id for j in await store.list_exports(10, created_by="bob")] == [second.id]


async def test_an_update_sets_its_fields_only_while_the_status_is_as_required(store: Store) -> None:
    running = job()
    await store.save_export(running)
    progress = JobProgress(events=5000, channels_done=1, channels=3)
    moved = await store.update_export(
        running.id, when_status="running", progress=progress, beat_at="2026-06-01T10:00:05.000Z"
    )
    assert moved == running.model_copy(update={"progress": progress, "beat_at": "2026-06-01T10:00:05.000Z"})
    failed = await store.update_export(
        running.id, when_status="running", status="failed", error="interrupted", finished_at="2026-06-01T10:01:00.000Z"
    )
    assert failed is not None and (failed.status, failed.error, failed.progress) == ("failed", "interrupted", progress)
    # the job's own node, late: the job stays as it was failed
    assert await store.update_export(running.id, when_status="running", progress=JobProgress(events=9)) is None
    assert await store.get_export(running.id) == failed
    assert await store.list_exports(10, status="running") == []
    assert await store.update_export("0" * 24, status="done") is None
