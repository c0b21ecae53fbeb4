"""An export job started over REST (docs/protocol.md#export): what was asked, how far it got, how it ended,
kept in the store so that every node and a restarted one can answer for it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.exports.formats import ExportFormat

ExportStatus = Literal["running", "done", "failed"]
INTERRUPTED = "interrupted"  # the error of a job whose node stopped before it ended


class JobProgress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: int = Field(default=0, description="records written so far")
    channels_done: int = 0
    channels: int = Field(default=0, description="channels the export covers")


class ExportJobInfo(BaseModel):
    """A job as GET /api/admin/exports answers it. `from` and `to` are the days asked for (YYYY-MM-DD, both
    included); `channels` None for every channel the requester may read. Once done: `files` (how many,
    manifest.json included), `size` (the zip's bytes) and `manifest` (manifest.json's sha256)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    status: ExportStatus
    format: ExportFormat
    from_: str = Field(alias="from")
    to: str
    channels: list[str] | None = None
    progress: JobProgress = Field(default_factory=lambda: JobProgress())
    created_by: str
    created_at: str
    finished_at: str | None = None
    files: int | None = None
    size: int | None = None
    manifest: str | None = Field(None, description="manifest.json's sha256: note it down to show the export unchanged")
    error: str | None = Field(None, description='why it failed: "interrupted" when its node stopped first')


class ExportJob(ExportJobInfo):
    """A job as stored: `node` runs it and `beat_at` is when it last said it still does (never on the wire)."""

    node: str = ""
    beat_at: str = ""

    def wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude={"node", "beat_at"})

    def stored(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


def stored_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A job update's fields as stored: models as their JSON objects."""
    return {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in fields.items()}
