"""The architecture in the imports: arrows point towards core, python-socketio is reached only through
socketio_edge, and the shared core and the archiver carry no web framework."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

CORE = [
    "core.models",
    "core.settings",
    "core.errors",
    "core.commands",
    "core.trading",
    "core.posting",
    "core.retry",
    "core.worker",
    "core.logs",
    "core.bus",
    "core.bus.memory",
    "core.bus.redis",
    "core.bus.redis_client",
    "core.store",
    "core.store.sqlite",
    "core.store.mongo",
    "core.exports.exporter",  # exports run from the command line, without the server
    "core.exports.job",
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


# Which of our packages each package may import: the arrows point one way, towards core.
ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "core": set(),
    "quotes": {"core"},
    "investing": {"core", "quotes"},  # watchlists, alerts, trade ideas: shared by nodes and the bot
    "socketio_edge": {"core"},
    "probes": {"core"},
    "bot": {"core", "quotes", "investing", "socketio_edge", "probes"},
    "archiver": {"core", "probes"},
    "server": {"core", "quotes", "investing", "socketio_edge", "probes", "bot", "archiver", "chatkit"},
    "chatkit": set(),  # a user's client: HTTP and Socket.IO only, nothing of ours
}
# the one module of server/ that runs the bot and the archiver inside the node (standalone mode)
COMPOSES_WORKERS = "server/standalone.py"
LIBRARY_INTERNALS = {"socketio", "engineio"}
# the edge extends the server's python-socketio; chatkit only uses its public client (socketio.AsyncClient)
SOCKETIO_USERS = {"socketio_edge", "chatkit"}


def imports_of(path: Path) -> set[str]:
    """The top-level names of every module `path` imports, at the top or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def sources() -> list[tuple[str, Path]]:
    return [(package, path) for package in ALLOWED for path in sorted((ROOT / package).rglob("*.py"))]


def test_imports_point_one_way() -> None:
    wrong = []
    for package, path in sources():
        allowed = ALLOWED[package] | {package}
        if path.relative_to(ROOT).as_posix() != COMPOSES_WORKERS:
            allowed -= {"bot", "archiver"} - {package}
        for name in imports_of(path) & set(ALLOWED):
            if name not in allowed:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_only_the_socketio_edge_touches_python_socketio() -> None:
    users = {
        path.relative_to(ROOT).as_posix()
        for package, path in sources()
        if package not in SOCKETIO_USERS and imports_of(path) & LIBRARY_INTERNALS
    }
    assert users == set()


def test_the_core_names_no_socketio_concept() -> None:
    # rooms and sids are the edge's words; the core speaks of channels, users and connections
    words = re.compile(r"\b(sids?|rooms?|socketio|engineio|eio)\b", re.IGNORECASE)
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "core").rglob("*.py"))
        if path.name != "fastpaths.py"  # names the libraries' functions it guards
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if words.search(line)
    ]
    assert found == []


def test_workers_start_without_the_server() -> None:
    for worker in ("bot", "archiver"):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", worker, "--help"], capture_output=True, text=True, check=True
        )
        assert f"python -m {worker}" in done.stdout
        imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
        assert worker in imported
        assert "server" not in imported
