"""The export jobs a node runs (docs/protocol.md#export): owned tasks, at most MAX_RUNNING at once, their
state in the store as they go, a zip of each on disk when done. A job whose node stopped (shut down, killed,
or silent past STALE) is failed "interrupted" by the next node to look at it, its files removed."""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from core.errors import ChatError
from core.exports.exporter import ExportProgress, ExportSpec, Progress, export
from core.exports.files import zip_directory
from core.exports.job import INTERRUPTED, ExportJob, JobProgress
from core.models import iso, utcnow
from core.store import Store
from server import audit

logger = logging.getLogger(__name__)
MAX_RUNNING = 2  # jobs at once on one node: each reads the store and writes files as fast as they go
BEAT = 10.0  # seconds between a node's word that its jobs still run
STALE = timedelta(seconds=60)  # a running job not heard of for this long has lost its node
PROGRESS_WRITE = 1.0  # seconds between two progress writes of a job
RECOVER_LIMIT = 1000  # running jobs looked at on start: far more than nodes times MAX_RUNNING


class Superseded(Exception):
    """The job was failed by another node meanwhile (this one was silent past STALE): nobody waits for it."""


class ExportJobs:
    def __init__(self, store: Store, directory: Path, node: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.directory, self.node, self.clock = store, directory, node, clock
        self._mine: set[str] = set()  # the jobs this node runs, from before they are saved
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stops: dict[str, threading.Event] = {}

    def zip_path(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.zip"

    async def start(self, job: ExportJob, spec: ExportSpec) -> None:
        """Save the job and run it; ChatError busy when this node runs MAX_RUNNING already."""
        if len(self._mine) >= MAX_RUNNING:
            raise ChatError("busy", f"This node runs {MAX_RUNNING} exports already; try again when one is done", 503)
        self._mine.add(job.id)
        try:
            await self.store.save_export(job)
        except BaseException:
            self._mine.discard(job.id)
            raise
        self._stops[job.id] = threading.Event()
        self._tasks[job.id] = asyncio.create_task(self._run(job, spec), name=f"export {job.id}")

    async def settle(self, job: ExportJob, *, starting: bool = False) -> ExportJob:
        """The job as it stands: one still marked running whose node is gone (this node, which no longer runs
        it or is just starting; another, silent past STALE) is failed "interrupted" now."""
        if job.status != "running":
            return job
        orphaned = job.node == self.node and (starting or job.id not in self._mine)
        if not orphaned and job.beat_at >= iso(self.clock() - STALE):
            return job
        failed = await self._fail(job.id, INTERRUPTED)
        return failed or await self.store.get_export(job.id) or job

    async def recover(self) -> None:
        """On start: every job still marked running on this node, or silent past STALE, failed interrupted."""
        for job in await self.store.list_exports(RECOVER_LIMIT, status="running"):
            await self.settle(job, starting=True)

    async def beat(self) -> None:
        """Say every BEAT seconds that this node's jobs still run (a long zip reports no progress)."""
        while True:
            await asyncio.sleep(BEAT)
            for job_id in list(self._tasks):
                try:
                    await self.store.update_export(job_id, when_status="running", beat_at=iso(self.clock()))
                except Exception as exc:  # the next beat tries again: STALE allows several to fail
                    logger.warning("could not say export %s still runs: %s", job_id, exc)

    async def close(self) -> None:
        """Stop every job (each fails "interrupted") and wait for them."""
        for job_id, task in self._tasks.items():
            self._stops[job_id].set()
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _run(self, job: ExportJob, spec: ExportSpec) -> None:
        out = self.directory / job.id
        try:
            result = await export(self.store, spec, out, progress=self._reporter(job.id), now=self.clock())
            size = await asyncio.to_thread(zip_directory, out, self.zip_path(job.id), self._stops[job.id])
            await asyncio.to_thread(shutil.rmtree, out)  # the zip is the export now
            done = await self.store.update_export(
                job.id, when_status="running", status="done", finished_at=iso(self.clock()), files=result.files,
                size=size, manifest=result.manifest, progress=JobProgress(**asdict(result.progress)),
            )  # fmt: skip
            if done is None:
                raise Superseded
            await audit.record(
                self.store, job.created_by, "export.done", target=job.id, events=result.progress.events,
                files=result.files, size=size, manifest=result.manifest,
            )  # fmt: skip
        except Superseded:
            await asyncio.to_thread(self._remove, job.id)
        except asyncio.CancelledError:
            await self._fail(job.id, INTERRUPTED)
            raise
        except Exception as exc:
            logger.exception("export job failed", extra={"job": job.id})
            await self._fail(job.id, _reason(exc))
        finally:
            self._mine.discard(job.id)
            self._tasks.pop(job.id, None)
            self._stops.pop(job.id, None)

    def _reporter(self, job_id: str) -> Progress:
        last = 0.0

        async def report(done: ExportProgress) -> None:
            nonlocal last
            if time.monotonic() - last < PROGRESS_WRITE and done.channels_done < done.channels:
                return
            last = time.monotonic()
            progress, beat_at = JobProgress(**asdict(done)), iso(self.clock())
            moved = await self.store.update_export(job_id, when_status="running", progress=progress, beat_at=beat_at)
            if moved is None:
                raise Superseded

        return report

    async def _fail(self, job_id: str, error: str) -> ExportJob | None:
        failed = await self.store.update_export(
            job_id, when_status="running", status="failed", error=error, finished_at=iso(self.clock())
        )
        await asyncio.to_thread(self._remove, job_id)
        return failed

    def _remove(self, job_id: str) -> None:
        shutil.rmtree(self.directory / job_id, ignore_errors=True)
        for path in (self.zip_path(job_id), self.zip_path(job_id).with_suffix(".zip.partial")):
            path.unlink(missing_ok=True)


def _reason(exc: Exception) -> str:
    """What a failed job says: the disk's own words for a file that could not be written, else no detail
    (the log has it)."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"the export could not be written: {exc.strerror}"
    return "internal_error"
