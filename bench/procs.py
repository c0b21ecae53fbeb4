"""Child processes of the benchmark: the shared kit built in a temp dir, the product's processes, Redis."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from core.settings import Settings
from scripts.ports import free_port

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PASSWORD = "bench-password-1"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout:.0f}s")


def build_kit(kit: Path, build_root: Path) -> Path:
    """A private copy of the shared kit (read-only) with the peer's node_modules and the generator
    built; reused while the kit's files are unchanged."""
    digest = hashlib.sha256()
    for path in sorted(p for p in kit.rglob("*") if p.is_file() and "node_modules" not in p.parts):
        digest.update(str(path.relative_to(kit)).encode() + path.read_bytes())
    target = build_root / f"kit-{digest.hexdigest()[:12]}"
    done = target / ".built"
    if done.exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    log(f"building the benchmark kit from {kit} into {target}")
    shutil.copytree(kit, target, ignore=shutil.ignore_patterns("node_modules", "loadgen/loadgen"))
    for path in target.rglob("*"):
        path.chmod(path.stat().st_mode | 0o200)
    subprocess.run(["gcc", "-O2", "-o", "loadgen/loadgen", "loadgen/loadgen.c"], cwd=target, check=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target / "peer", check=True)
    done.touch()
    return target


class Children:
    """Processes this benchmark started; stopped by PID (their own session), newest first."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        out = open(self.logdir / f"{name}.log", "ab")  # noqa: SIM115 - kept by the child
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.logdir, start_new_session=True
        )
        out.close()
        self.procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = [(n, p) for n, p in self.procs if p is not proc]

    def stop_all(self) -> None:
        for _, proc in reversed(list(self.procs)):
            self.stop(proc)


def redis_cmd(url: str, *args: str) -> str:
    host, port, db = parse_redis(url)
    out = subprocess.run(
        ["redis-cli", "-h", host, "-p", str(port), "-n", str(db), *args], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def parse_redis(url: str) -> tuple[str, int, int]:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    return u.hostname or "127.0.0.1", u.port or 6379, int((u.path or "/0").strip("/") or 0)


def redis_pid(url: str) -> int | None:
    for line in redis_cmd(url, "INFO", "server").splitlines():
        if line.startswith("process_id:"):
            return int(line.split(":", 1)[1])
    return None


class Product:
    """One configuration of investor-chat: standalone, or N server nodes plus the archiver on Redis."""

    def __init__(
        self,
        children: Children,
        workdir: Path,
        *,
        nodes: int,
        redis_url: str | None,
        rate: float,
        burst: int,
        storage_url: str | None = None,
        code: Path | None = None,
    ) -> None:
        """`code`: another checkout of the repository to run (bench/run.py --baseline), with this venv."""
        self.children = children
        self.command = [sys.executable, "-m", "server"] if code else [str(VENV_BIN / "investor-chat")]
        self.nodes = nodes
        self.redis_url = redis_url
        self.ports = [free_port() for _ in range(nodes)]
        self.procs: list[subprocess.Popen[bytes]] = []
        self.archiver: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ)
        self.env.update(
            {
                "CHAT_STORAGE_URL": storage_url or f"sqlite:///{workdir}/chat.sqlite3",
                "CHAT_BUS_URL": redis_url or "memory://",
                "CHAT_SECRET_KEY": secret_key(workdir),
                "CHAT_SEND_RATE": str(rate),
                "CHAT_SEND_BURST": str(burst),
                # the event budget, raised the same way (a send is an event too, joins beside it): twice the
                # send limit, never below the product's own
                "CHAT_EVENT_RATE": str(max(rate * 2, Settings.model_fields["event_rate"].default)),
                "CHAT_EVENT_BURST": str(max(burst * 2, Settings.model_fields["event_burst"].default)),
                # 1000 registrations come from one address: raised like the send limit, not removed
                "CHAT_MAX_SOCKETS_PER_ADDRESS": "100000",  # every generated client comes from 127.0.0.1
                "CHAT_CHANNEL_CREATE_BURST": "100000",  # the first user creates every room of the ladders
                "CHAT_LOGIN_RATE": "1000",
                "CHAT_LOGIN_BURST": "2000",
                "CHAT_BCRYPT_ROUNDS": "4",  # registering 1000 users must not take minutes; still bcrypt
                "CHAT_LOG_LEVEL": "warning",
                "CHAT_QUOTE_PROVIDERS": "stooq",
                "CHAT_STOOQ_URL": "http://127.0.0.1:9",
                "CHAT_CLIENT_DIR": str(workdir / "no-client"),
            }
        )
        if code is not None:  # ahead of the editable install of this checkout
            self.env["PYTHONPATH"] = str(code)

    @property
    def urls(self) -> list[str]:
        return [f"127.0.0.1:{p}" for p in self.ports]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.ports[0]}"

    def start(self) -> None:
        exe = self.command
        if self.redis_url is None:
            self.procs = [self.children.start("standalone", [*exe, "--port", str(self.ports[0])], self.env)]
        else:
            self.archiver = self.children.start("archiver", [*exe, "archiver"], self.env)
            self.procs = [
                self.children.start(f"node{i}", [*exe, "server", "--port", str(port)], self.env)
                for i, port in enumerate(self.ports)
            ]
        for proc, port in zip(self.procs, self.ports, strict=True):
            wait_http(f"http://127.0.0.1:{port}/readyz", proc)

    def stop(self) -> None:
        for proc in self.procs:
            self.children.stop(proc)
        if self.archiver is not None:
            self.children.stop(self.archiver)
        self.procs, self.archiver = [], None

    def pids(self) -> list[str]:
        pids = [f"srv{i}={p.pid}" for i, p in enumerate(self.procs)]
        if self.archiver is not None:
            pids.append(f"archiver={self.archiver.pid}")
        if self.redis_url:
            rp = redis_pid(self.redis_url)
            if rp:
                pids.append(f"redis={rp}")
        return pids


class NodePeers:
    """The kit's Node reference peer, N processes (through Redis when N > 1), kept up for a whole ladder."""

    def __init__(self, children: Children, kit: Path, procs: int, redis_url: str | None) -> None:
        self.children, self.kit, self.redis_url = children, kit, redis_url
        self.ports = [free_port() for _ in range(procs)]
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def urls(self) -> list[str]:
        return [f"127.0.0.1:{p}" for p in self.ports]

    def start(self) -> None:
        redis = ["--redis", self.redis_url] if self.redis_url else []
        for i, port in enumerate(self.ports):
            cmd = ["node", str(self.kit / "peer" / "server.js"), str(port), *redis]
            self.procs.append(self.children.start(f"peer{i}-{port}", cmd))
        for proc, port in zip(self.procs, self.ports, strict=True):
            wait_port(port, proc)

    def stop(self) -> None:
        for proc in self.procs:
            self.children.stop(proc)
        self.procs = []

    def pids(self) -> list[str]:
        return [f"srv{i}={p.pid}" for i, p in enumerate(self.procs)]


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {timeout:.0f}s")


def secret_key(workdir: Path) -> str:
    path = workdir / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
    return path.read_text()


def post(base: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def user_token(base: str, i: int, prefix: str = "bench") -> str:
    cred = {"username": f"{prefix}{i:05d}", "password": PASSWORD}
    try:
        return str(post(base, "/api/register", cred)["token"])
    except urllib.error.HTTPError as exc:  # 409: registered by an earlier ladder on this store
        if exc.code != 409:
            raise
        return str(post(base, "/api/login", cred)["token"])


def register(base: str, users: int, channels: list[str], token_file: Path) -> list[str]:
    """The kit's token-file recipe: one user per client, channels created by the first (in parallel too: rooms
    of 2 need 500 of them)."""

    def create(name: str) -> None:
        try:
            post(base, "/api/channels", {"name": name}, tokens[0])
        except urllib.error.HTTPError as exc:
            if exc.code != 409:
                raise

    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda i: user_token(base, i), range(users)))
        list(pool.map(create, channels))
    token_file.write_text("\n".join(tokens) + "\n")
    return tokens


def temp_root(given: str | None) -> Path:
    return Path(given) if given else Path(tempfile.mkdtemp(prefix="investor-chat-bench-"))
