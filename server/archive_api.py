"""REST API of the compliance archive's chain heads (docs/protocol.md#compliance-archive, docs/compliance.md):
what an operator publishes daily, so that a later rewrite of a whole chain shows against it."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from core.journal import GENESIS
from server import api_docs
from server.access import require_site
from server.api import viewer
from server.api_docs import Reply, Route
from server.app_keys import STORE


class ChainHead(BaseModel):
    name: str
    last_seq: int = Field(description="the channel's last record whose chain is in (0: none yet)")
    chain: str = Field(description=f"sha256 hex of the chain at last_seq ({GENESIS[:8]}… before the first)")
    first_seq: int = Field(
        description="the seq the channel's journal begins at, its chain on 64 zeros: 1, or after the records "
        "archived before the journal existed (an upgrade's), which the chain does not cover"
    )


class ChainHeads(BaseModel):
    channels: list[ChainHead] = Field(description="every channel with an archived record, by name")


def add_routes(app: web.Application) -> None:
    api_docs.add_routes(app, ROUTES)


async def read_heads(request: web.Request) -> web.Response:
    require_site(await viewer(request), "admin", "compliance")
    store = request.app[STORE]
    heads, starts = await store.journal_heads(), await store.journal_starts()
    channels = [
        ChainHead(name=name, last_seq=seq, chain=chain, first_seq=starts.get(name, 1)) for name, seq, chain in heads
    ]
    return web.json_response(ChainHeads(channels=channels).model_dump())


ROUTES = (
    Route(
        "GET",
        "/api/admin/archive/heads",
        read_heads,
        "Each channel's chain head in the compliance archive (site admins and compliance): publish it daily; "
        "`investor-chat archive verify --heads FILE` checks the archive against it later",
        ok=Reply(200, "The heads", ChainHeads),
        secured=True,
        errors=("forbidden",),
    ),
)
