"""The `investor-chat` command: standalone (default), server, bot or archiver; admin and archive on the store."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from importlib import import_module

from core.process import add_setting_flags, run_worker, start
from core.settings import Settings

logger = logging.getLogger(__name__)
MODES = ("standalone", "server", "bot", "archiver")
CLIENT_MODES = ("tail", "say")  # talk to a running server: no CHAT_* server settings needed


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="investor-chat",
        description="Real-time chat for investors. Settings come from CHAT_* variables; flags override them. "
        "`investor-chat tail|say --help` describes the client commands, `investor-chat admin --help` the site "
        "administration (roles, invites, suspensions), `investor-chat archive --help` the compliance archive.",
    )
    parser.add_argument("mode", nargs="?", default="standalone", choices=MODES)
    add_setting_flags(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in CLIENT_MODES:
        from chatkit.cli import main as client_main

        raise SystemExit(client_main(argv))
    if argv and argv[0] == "admin":  # on the store alone: no server settings beyond CHAT_STORAGE_URL
        from server.admin_cli import main as admin_main

        raise SystemExit(admin_main(argv[1:]))
    if argv and argv[0] == "archive":  # the compliance archive, on the store alone like `admin`
        from server.archive_cli import main as archive_main

        raise SystemExit(archive_main(argv[1:]))
    args = parse_args(argv)
    settings = start("investor-chat", args.mode, args)
    if args.mode in ("bot", "archiver"):
        run_worker(args.mode, settings, import_module(f"{args.mode}.runner").run)
    else:
        _serve(settings, standalone=args.mode == "standalone")


def _serve(settings: Settings, *, standalone: bool) -> None:
    from aiohttp import web

    if standalone:
        from server.standalone import create_standalone_app

        app = create_standalone_app(settings)
    else:
        from server.app import create_app

        app = create_app(settings)
    from server import gc_tuning

    app.on_startup.append(gc_tuning.settle)  # last: after every cleanup context has built its part of the heap
    logger.info(
        "investor-chat %s listening on http://%s:%d",
        "standalone" if standalone else "server",
        settings.host,
        settings.port,
    )
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=10,
        keepalive_timeout=settings.http_idle_timeout,
    )
