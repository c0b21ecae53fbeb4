"""Typed application keys for every long-lived resource of a node."""

from __future__ import annotations

from aiohttp import web

from core.bus import Bus
from core.settings import Settings
from core.store import Store
from server.access import Access
from server.auth import Accounts
from server.budgets import Budgets
from server.mentions import KnownUsers
from server.metrics import Metrics
from socketio_edge import ChatSocketServer

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
BUS = web.AppKey("bus", Bus)
ACCOUNTS = web.AppKey("accounts", Accounts)
METRICS = web.AppKey("metrics", Metrics)
SIO = web.AppKey("sio", ChatSocketServer)
BUDGETS = web.AppKey("budgets", Budgets)
ACCESS = web.AppKey("access", Access)
KNOWN_USERS = web.AppKey("known_users", KnownUsers)
