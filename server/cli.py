"""The `investor-chat` command: standalone (default), server, bot or archiver."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence

from core.logs import setup_logging
from core.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)
MODES = ("standalone", "server", "bot", "archiver")
CLIENT_MODES = ("tail", "say")  # talk to a running server: no CHAT_* server settings needed


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="investor-chat",
        description="Real-time chat for investors. Settings come from CHAT_* variables; flags override them. "
        "`investor-chat tail|say --help` describes the client commands.",
    )
    parser.add_argument("mode", nargs="?", default="standalone", choices=MODES)
    parser.add_argument("--host", help="listen address (CHAT_HOST)")
    parser.add_argument("--port", help="listen port (CHAT_PORT)")
    parser.add_argument("--storage-url", help="sqlite:///path or mongodb://host/db (CHAT_STORAGE_URL)")
    parser.add_argument("--bus-url", help="memory:// or redis://host:port/db (CHAT_BUS_URL)")
    parser.add_argument("--log-level", help="debug, info, warning, error (CHAT_LOG_LEVEL)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in CLIENT_MODES:
        from server.client_cli import main as client_main

        raise SystemExit(client_main(argv))
    args = parse_args(argv)
    overrides = {key: value for key, value in vars(args).items() if key != "mode" and value is not None}
    try:
        settings = load_settings(standalone=args.mode == "standalone", **overrides)
        if args.mode != "standalone" and settings.bus_url.startswith("memory:"):
            raise SettingsError(f"CHAT_BUS_URL: {args.mode} mode needs redis://, memory:// is standalone only")
    except SettingsError as exc:
        print(f"investor-chat: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    setup_logging(settings.log_level)
    _install_uvloop()
    if args.mode in ("standalone", "server"):
        _serve(settings, standalone=args.mode == "standalone")
    elif args.mode == "bot":
        from bot.runner import run as run_bot

        _work(settings, run_bot)
    else:
        from archiver.runner import run as run_archiver

        # its batches come in bursts of CPU; history never waits for it (the bus buffer fills in)
        os.nice(settings.archiver_nice)
        _work(settings, run_archiver)


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # not on every platform; asyncio's loop works, only slower
        return
    uvloop.install()


def _serve(settings: Settings, *, standalone: bool) -> None:
    from aiohttp import web

    if standalone:
        from server.standalone import create_standalone_app

        app = create_standalone_app(settings)
    else:
        from server.app import create_app

        app = create_app(settings)
    from server import heap

    app.on_startup.append(heap.settle)  # last: after every cleanup context has built its part of the heap
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


def _work(settings: Settings, run: Callable[[Settings, asyncio.Event], Awaitable[None]]) -> None:
    async def supervise() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(supervise())
