"""REST API of compliance export jobs (docs/protocol.md#export): started by site admins and compliance, run by
the node in the background (server/export_jobs.py), read back with their progress, downloaded as a zip.
Compliance exports every channel and sees every job; an admin exports the channels it may read and sees its
own jobs, so that no export carries a private channel past the access rules."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.errors import ChatError
from core.exports.exporter import DAY, spec_of
from core.exports.formats import ExportFormat
from core.exports.job import ExportJob, ExportJobInfo, JobProgress
from core.models import CHANNEL_RE, iso, ordered_id
from server import api_docs, audit
from server.access import Viewer, channel_not_found, require_site
from server.api import parse_body, viewer
from server.api_docs import Reply, Route
from server.app_keys import ACCESS, SETTINGS, STORE
from server.export_jobs import MAX_RUNNING, ExportJobs

EXPORT_JOBS = web.AppKey("export_jobs", ExportJobs)
MAX_CHANNELS = 1000  # channels one export names (core.settings max_channels' default)
LIST_LIMIT = 50  # jobs listed, newest first
JOB_ID = r"^[0-9a-f]{24}$"
ChannelName = Annotated[str, StringConstraints(pattern=CHANNEL_RE.pattern)]


class NewExport(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: str = Field(alias="from", pattern=DAY.pattern, description="the first day, YYYY-MM-DD (UTC)")
    to: str = Field(pattern=DAY.pattern, description="the last day, YYYY-MM-DD (UTC), included")
    channels: list[ChannelName] | None = Field(
        None, min_length=1, max_length=MAX_CHANNELS, description="only these; absent: every one you may read"
    )
    format: ExportFormat


class ExportList(BaseModel):
    exports: list[ExportJobInfo] = Field(description=f"newest first, at most {LIST_LIMIT}")


def setup(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)
    app.cleanup_ctx.append(_jobs_ctx)


async def _jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    """The node's jobs: those a stopped node left marked running are failed "interrupted" first."""
    settings = app[SETTINGS]
    # the node's name outlives a restart, so a restarted node knows the jobs it was running are gone
    jobs = ExportJobs(app[STORE], Path(settings.export_dir), f"{socket.gethostname()}:{settings.port}")
    app[EXPORT_JOBS] = jobs
    await jobs.recover()
    beat = asyncio.create_task(jobs.beat(), name="export jobs beat")
    yield
    beat.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await beat
    await jobs.close()


async def start_export(request: web.Request) -> web.Response:
    who = await viewer(request, changes_state=True)
    require_site(who, "admin", "compliance")
    body = await parse_body(request, NewExport)
    try:
        spec = spec_of(body.format, body.from_, body.to, body.channels)
    except ValueError as exc:
        raise ChatError("invalid_payload", str(exc), 400) from None
    spec = replace(spec, channels=await _channels(request, who, spec.channels))
    jobs, store = request.app[EXPORT_JOBS], request.app[STORE]
    for running in await store.list_exports(MAX_RUNNING, status="running", created_by=who.username):
        if (await jobs.settle(running)).status == "running":
            raise ChatError("export_running", "Your export is still running: one at a time", 409, id=running.id)
    now = jobs.clock()
    job = ExportJob.model_validate(
        {"id": ordered_id(now.timestamp()), "status": "running", "format": spec.format, "from": body.from_,
         "to": body.to, "channels": None if body.channels is None else sorted(set(body.channels)),
         "created_by": who.username, "created_at": iso(now), "node": jobs.node, "beat_at": iso(now),
         "progress": JobProgress(channels=len(spec.channels) if spec.channels is not None else 0)}
    )  # fmt: skip
    await jobs.start(job, spec)
    await audit.record(
        store, who.username, "export.requested", target=job.id, format=job.format, channels=job.channels,
        **{"from": job.from_, "to": job.to},
    )  # fmt: skip
    return web.json_response(job.wire(), status=202)


async def _channels(request: web.Request, who: Viewer, asked: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """What the export covers: `asked`, each a channel `who` may read (else channel_not_found, as anywhere
    else); unasked, every channel in the archive for compliance (None), those it may read for an admin."""
    store = request.app[STORE]
    if who.compliance:
        if asked is None:
            return None
        known = set(await store.journal_channels()) | {c.name for c in await store.list_channels()}
    else:
        known = {c.name for c in await request.app[ACCESS].readable(who)}
        if asked is None:
            return tuple(sorted(known & set(await store.journal_channels())))
    for name in asked:
        if name not in known:
            raise channel_not_found(name)
    return asked


async def list_exports(request: web.Request) -> web.Response:
    who = await viewer(request)
    require_site(who, "admin", "compliance")
    jobs = request.app[EXPORT_JOBS]
    mine = None if who.compliance else who.username
    found = [await jobs.settle(job) for job in await request.app[STORE].list_exports(LIST_LIMIT, created_by=mine)]
    return web.json_response({"exports": [job.wire() for job in found]})


async def read_export(request: web.Request) -> web.Response:
    job = await _job(request, await viewer(request))
    return web.json_response(job.wire())


async def download_export(request: web.Request) -> web.StreamResponse:
    who = await viewer(request)
    job = await _job(request, who)
    if job.status != "done":
        raise ChatError("export_not_ready", f"The export is {job.status}, not done", 409)
    path = request.app[EXPORT_JOBS].zip_path(job.id)
    if not path.is_file():  # another node's job, in a CHAT_EXPORT_DIR not shared with this one
        raise ChatError("export_not_found", "The export's files are not on this server node", 404)
    await audit.record(request.app[STORE], who.username, "export.downloaded", target=job.id)
    name = f"investor-chat-export-{job.from_}-{job.to}-{job.id}.zip"
    return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def _job(request: web.Request, who: Viewer) -> ExportJob:
    """The job of the path, as it stands, if `who` may see it: compliance every job, an admin its own."""
    require_site(who, "admin", "compliance")
    job_id = request.match_info["id"]
    job = await request.app[STORE].get_export(job_id) if len(job_id) == 24 else None
    if job is None or not (who.compliance or job.created_by.lower() == who.username.lower()):
        raise ChatError("export_not_found", f"No export {job_id[:40]!r}", 404)
    return await request.app[EXPORT_JOBS].settle(job)


ADMINS = ("forbidden",)

ROUTES = (
    Route(
        "POST",
        "/api/admin/exports",
        start_export,
        "Start an export of the compliance archive (site admins and compliance): the records of the days from "
        "`from` to `to` as JSON Lines, CSV or emails with a manifest.json, run in the background; one running "
        "export per user",
        body=NewExport,
        ok=Reply(202, "The job, running", ExportJobInfo),
        secured=True,
        errors=("forbidden_origin", "forbidden", "channel_not_found", "export_running", "busy"),
    ),
    Route(
        "GET",
        "/api/admin/exports",
        list_exports,
        "Export jobs, newest first (compliance: every one; site admins: their own)",
        ok=Reply(200, "The jobs", ExportList),
        secured=True,
        errors=ADMINS,
    ),
    Route(
        "GET",
        "/api/admin/exports/{id}",
        read_export,
        "An export job: its status and progress",
        ok=Reply(200, "The job", ExportJobInfo),
        secured=True,
        errors=(*ADMINS, "export_not_found"),
    ),
    Route(
        "GET",
        "/api/admin/exports/{id}/download",
        download_export,
        "A finished export as a zip: its files and manifest.json",
        ok=Reply(200, "The zip", media_type="application/zip"),
        secured=True,
        errors=(*ADMINS, "export_not_found", "export_not_ready"),
    ),
)
