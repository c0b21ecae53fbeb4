"""Export jobs of the SQLite store (#24, docs/protocol.md#export): a part of SqliteStore, on its connection."""

from __future__ import annotations

from typing import Any

import aiosqlite
import orjson

from core.exports.job import ExportJob, ExportStatus, stored_fields


class SqliteExports:
    _db: aiosqlite.Connection

    async def save_export(self, job: ExportJob) -> None:
        await self._db.execute(
            "INSERT INTO exports (id, created_by, status, data) VALUES (?, ?, ?, ?)",
            (job.id, job.created_by, job.status, orjson.dumps(job.stored()).decode()),
        )
        await self._db.commit()

    async def get_export(self, export_id: str) -> ExportJob | None:
        rows = list(await self._db.execute_fetchall("SELECT data FROM exports WHERE id = ?", (export_id,)))
        return ExportJob.model_validate_json(rows[0][0]) if rows else None

    async def list_exports(
        self, limit: int, *, status: ExportStatus | None = None, created_by: str | None = None
    ) -> list[ExportJob]:
        rows = await self._db.execute_fetchall(
            "SELECT data FROM exports WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR created_by = ?2) "
            "ORDER BY id DESC LIMIT ?3",
            (status, created_by, limit),
        )
        return [ExportJob.model_validate_json(row[0]) for row in rows]

    async def update_export(
        self, export_id: str, *, when_status: ExportStatus | None = None, **fields: Any
    ) -> ExportJob | None:
        stored = stored_fields(fields)
        # one statement: a job marked interrupted by another node is not brought back by a late progress report
        async with self._db.execute(
            "UPDATE exports SET data = json_patch(data, ?1), status = coalesce(?2, status) "
            "WHERE id = ?3 AND (?4 IS NULL OR status = ?4) RETURNING data",
            (orjson.dumps(stored).decode(), stored.get("status"), export_id, when_status),
        ) as cur:
            row = await cur.fetchone()
        await self._db.commit()
        return None if row is None else ExportJob.model_validate_json(row[0])
