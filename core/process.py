"""How every investor-chat process starts: flags over CHAT_* settings, logging, the event loop, signals."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence

from core.logs import setup_logging
from core.settings import Settings, SettingsError, load_settings

# A worker's whole life: run until the event is set (SIGTERM, SIGINT), then return.
Worker = Callable[[Settings, asyncio.Event], Awaitable[None]]


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (CHAT_HOST)")
    parser.add_argument("--port", help="listen port (CHAT_PORT)")
    parser.add_argument("--storage-url", help="sqlite:///path or mongodb://host/db (CHAT_STORAGE_URL)")
    parser.add_argument("--bus-url", help="memory:// or redis://host:port/db (CHAT_BUS_URL)")
    parser.add_argument("--log-level", help="debug, info, warning, error (CHAT_LOG_LEVEL)")


def start(prog: str, mode: str, args: argparse.Namespace) -> Settings:
    """Settings from the environment and the flags in `args`, logging set up and uvloop installed; a
    setting that does not hold ends the process with a one-line error and status 2."""
    overrides = {key: value for key, value in vars(args).items() if key != "mode" and value is not None}
    try:
        settings = load_settings(standalone=mode == "standalone", **overrides)
        if mode != "standalone" and settings.bus_url.startswith("memory:"):
            raise SettingsError(f"CHAT_BUS_URL: {mode} mode needs redis://, memory:// is standalone only")
    except SettingsError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    setup_logging(settings.log_level)
    _install_uvloop()
    return settings


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # not on every platform; asyncio's loop works, only slower
        return
    uvloop.install()


def run_worker(mode: str, settings: Settings, worker: Worker) -> None:
    """Run a worker process until SIGTERM or SIGINT, which it answers by draining and returning."""
    if mode == "archiver":
        # its batches come in bursts of CPU; history never waits for it (the bus buffer fills in)
        os.nice(settings.archiver_nice)

    async def supervise() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await worker(settings, stop)

    asyncio.run(supervise())


def worker_main(mode: str, worker: Worker, argv: Sequence[str] | None = None) -> None:
    """`python -m bot` and `python -m archiver`: the worker's flags, then the worker until it stops."""
    parser = argparse.ArgumentParser(prog=f"python -m {mode}", description=f"investor-chat's {mode}")
    add_setting_flags(parser)
    run_worker(mode, start(parser.prog, mode, parser.parse_args(argv)), worker)
