"""The server node's application factory: resources as cleanup contexts under typed keys."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from core import fastpaths
from core.bus import Bus, open_bus
from core.models import DEFAULT_CHANNEL, Channel, now_iso
from core.settings import Settings
from core.store import Store, open_store
from server import (
    admin_api,
    api,
    archive_api,
    exports_api,
    holds_api,
    investing_api,
    me_api,
    members_api,
    messages_api,
    ops,
    quotes_api,
    realtime,
    search_api,
    web_client,
)
from server.access import Access
from server.app_keys import ACCESS, ACCOUNTS, BUDGETS, BUS, KNOWN_USERS, METRICS, SETTINGS, STORE
from server.auth import Accounts
from server.budgets import Budgets
from server.mentions import KnownUsers
from server.metrics import Metrics
from server.middleware import add_security_headers, check_host, error_middleware

logger = logging.getLogger(__name__)
MAX_BODY = 64 * 1024  # REST bodies and Socket.IO packets; the largest legal message is ~8 KB


def create_app(settings: Settings, *, bus: Bus | None = None, store: Store | None = None) -> web.Application:
    """A server node. A bus or store passed in belongs to the caller and is not closed here."""
    fastpaths.configure(settings.fast_paths)
    app = web.Application(client_max_size=MAX_BODY, middlewares=[error_middleware, check_host])
    app.on_response_prepare.append(add_security_headers)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[BUDGETS] = Budgets(settings)
    app.cleanup_ctx.append(_store_ctx(store))
    app.cleanup_ctx.append(_bus_ctx(bus))
    app.cleanup_ctx.append(_accounts_ctx)
    realtime.attach(app)
    api.add_routes(app)
    messages_api.add_routes(app)
    members_api.add_routes(app)
    admin_api.add_routes(app)
    archive_api.add_routes(app)
    holds_api.add_routes(app)
    exports_api.setup(app)
    me_api.add_routes(app)
    search_api.add_routes(app)
    quotes_api.setup(app)
    investing_api.add_routes(app)
    ops.add_routes(app)
    web_client.add_routes(app)
    return app


def _store_ctx(given: Store | None):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        store = given or await open_store(app[SETTINGS].storage_url)
        app[STORE] = store
        app[ACCESS] = Access(store)
        app[KNOWN_USERS] = KnownUsers(store)
        await store.create_channel(Channel(name=DEFAULT_CHANNEL, created_by="system", created_at=now_iso()))
        yield
        if given is None:
            await store.close()

    return ctx


def _bus_ctx(given: Bus | None):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        bus = given or open_bus(app[SETTINGS].bus_url)
        app[BUS] = bus
        yield
        if given is None:
            await bus.close()

    return ctx


async def _accounts_ctx(app: web.Application) -> AsyncIterator[None]:
    s = app[SETTINGS]
    app[ACCOUNTS] = Accounts(app[STORE], s.secret, s.token_ttl, s.bcrypt_rounds, registration=s.registration)
    yield
