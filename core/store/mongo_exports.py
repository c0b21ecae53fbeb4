"""Export jobs of the MongoDB store (#24, docs/protocol.md#export): a part of MongoStore, on its database."""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from core.exports.job import ExportJob, ExportStatus, stored_fields
from core.store.mongo_schema import Document


def _job(doc: Document) -> ExportJob:
    doc["id"] = doc.pop("_id")
    doc.pop("lower", None)
    return ExportJob.model_validate(doc)


class MongoExports:
    """Each job a document with its id as _id and `lower`, the lower-cased creator (not read back)."""

    _db: AsyncDatabase[Document]

    async def save_export(self, job: ExportJob) -> None:
        stored = job.stored()
        await self._db.exports.insert_one({"_id": stored.pop("id"), "lower": job.created_by.lower(), **stored})

    async def get_export(self, export_id: str) -> ExportJob | None:
        doc = await self._db.exports.find_one({"_id": export_id})
        return None if doc is None else _job(doc)

    async def list_exports(
        self, limit: int, *, status: ExportStatus | None = None, created_by: str | None = None
    ) -> list[ExportJob]:
        query: Document = {}
        if status is not None:
            query["status"] = status
        if created_by is not None:
            query["lower"] = created_by.lower()
        return [_job(doc) async for doc in self._db.exports.find(query).sort("_id", DESCENDING).limit(limit)]

    async def update_export(
        self, export_id: str, *, when_status: ExportStatus | None = None, **fields: Any
    ) -> ExportJob | None:
        query: Document = {"_id": export_id}
        if when_status is not None:
            query["status"] = when_status
        doc = await self._db.exports.find_one_and_update(
            query, {"$set": stored_fields(fields)}, return_document=ReturnDocument.AFTER
        )
        return None if doc is None else _job(doc)
