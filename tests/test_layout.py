"""The architecture in the imports: the shared core and the archiver carry no web framework."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "core.models",
    "core.settings",
    "core.errors",
    "core.commands",
    "core.posting",
    "core.logs",
    "core.bus",
    "core.bus.memory",
    "core.bus.redis",
    "core.bus.redis_client",
    "core.store",
    "core.store.sqlite",
    "core.store.mongo",
]


def loaded_after(modules: list[str]) -> set[str]:
    code = f"import sys; import {', '.join(modules)}; print(' '.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in done.stdout.split()}


def test_the_shared_core_imports_neither_aiohttp_nor_socketio() -> None:
    loaded = loaded_after(CORE)
    assert not loaded & {"aiohttp", "socketio", "engineio", "server"}


def test_the_archivers_work_stays_light() -> None:
    # its process adds only a small health endpoint; the work itself needs no web framework
    loaded = loaded_after(["archiver.worker"])
    assert not loaded & {"aiohttp", "socketio", "engineio", "server", "yfinance"}
