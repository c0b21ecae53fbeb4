"""The distributed stack on this machine, without Docker: nginx, two nodes, bot, archiver, SecantusDB, Redis."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pymongo
import redis
from pymongo.errors import PyMongoError

from scripts.nginx_config import local_settings, render
from scripts.ports import free_port

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
NODES = ("server1", "server2")
WORKERS = ("bot", "archiver")
Probe = Literal["http", "mongo", "redis"]


class StackError(Exception):
    """A process of the stack did not start or did not become ready; the message has its log tail."""


def _executable(name: str) -> str:
    beside_python = Path(sys.executable).with_name(name)
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if found is None:
        raise StackError(f"{name} not found: install it (see the README's distributed section)")
    return found


@dataclass
class Service:
    """One process of the stack: how to start it and how to tell it is ready."""

    name: str
    command: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/readyz"  # HTTP readiness on `port`, when probe is "http"
    probe: Probe = "http"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Stack:
    """Start with start(), stop with stop(); kill() and restart() one process for fault tests."""

    def __init__(
        self,
        *,
        port: int = 0,
        redis_url: str = "redis://127.0.0.1:6379/1",
        env: Mapping[str, str] | None = None,
        directory: Path | None = None,
        mongo_storage: str = ":memory:",
        private_redis: bool = False,
        bots: int = 1,
    ) -> None:
        """`mongo_storage` is SecantusDB's storage path: a directory keeps the data across restart("mongo").
        `private_redis` starts a redis-server of the stack's own (append-only file in `directory`, so
        restart("redis") keeps the streams, as compose's Redis does) instead of using `redis_url`.
        `bots` replicas of the bot run, named bot, bot2, bot3..."""
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="investor-chat-stack-")
        self.directory = directory or Path(self._tmp.name)  # type: ignore[union-attr]
        self.directory.mkdir(parents=True, exist_ok=True)
        services: list[Service] = []
        if private_redis:
            redis_port = free_port()
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
            services.append(Service("redis", self._redis_command(redis_port), redis_port, probe="redis"))
        self.redis_url = redis_url
        self.secret_key = secrets.token_urlsafe(48)
        mongo_port = free_port()
        self.mongo_url = f"mongodb://127.0.0.1:{mongo_port}/investor_chat?maxIdleTimeMS=120000"
        common = {
            "CHAT_STORAGE_URL": self.mongo_url,
            "CHAT_BUS_URL": redis_url,
            "CHAT_SECRET_KEY": self.secret_key,
            "CHAT_TRUSTED_PROXIES": "127.0.0.1",
            "CHAT_HOST": "127.0.0.1",
            # set, so the host nginx forwards is checked too: only loopback names (and this) are answered,
            # a DNS-rebinding page reaching nginx on 127.0.0.1 is not
            "CHAT_ALLOWED_HOSTS": "localhost",
            **(env or {}),
        }
        chat = _executable("investor-chat")
        services.append(Service("mongo", self._mongo_command(mongo_port, mongo_storage), mongo_port, probe="mongo"))
        for name in NODES:
            node_port = free_port()
            services.append(Service(name, [chat, "server"], node_port, {**common, "CHAT_PORT": str(node_port)}))
        workers = [(name, name) for name in WORKERS] + [(f"bot{n}", "bot") for n in range(2, bots + 1)]
        for name, role in workers:
            health = free_port()
            services.append(Service(name, [chat, role], health, {**common, "CHAT_HEALTH_PORT": str(health)}))
        nginx_port = port or free_port()
        upstreams = [f"127.0.0.1:{service.port}" for service in services if service.name in NODES]
        per_address = int(common.get("CHAT_MAX_SOCKETS_PER_ADDRESS", "200"))  # nginx counts as the nodes do
        services.append(Service("nginx", self._nginx_command(nginx_port, upstreams, per_address), nginx_port))
        self.services = {service.name: service for service in services}

    @property
    def url(self) -> str:
        """The public entry: nginx."""
        return self.services["nginx"].url

    def node_urls(self) -> list[str]:
        return [self.services[name].url for name in NODES]

    def _mongo_command(self, port: int, storage: str) -> list[str]:
        return [
            _executable("secantusd-py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            storage,
            "--cache-size",
            "256M",
            "--log-level",
            "WARNING",
        ]

    def _redis_command(self, port: int) -> list[str]:
        data = self.directory / "redis"
        data.mkdir(exist_ok=True)
        return [
            _executable("redis-server"),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--dir",
            str(data),
        ]

    def _nginx_command(self, port: int, upstreams: list[str], per_address: int) -> list[str]:
        nginx_dir = self.directory / "nginx"
        nginx_dir.mkdir(exist_ok=True)
        conf = nginx_dir / "nginx.conf"
        conf.write_text(render(local_settings(nginx_dir, port, upstreams, ROOT / "client" / "dist", per_address)))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        return [nginx, "-p", str(nginx_dir), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]

    def port(self, name: str) -> int:
        return self.services[name].port

    def start(self) -> None:
        """Start every process in dependency order, each ready before the next; all stop on failure."""
        try:
            for name in self.services:
                self.restart(name)
        except BaseException:
            self.stop()
            raise

    def restart(self, name: str) -> None:
        """(Re)start one process on its same port and wait until it is ready."""
        service = self.services[name]
        if service.process is not None and service.process.poll() is None:
            self._terminate(service)
        log = (self.directory / f"{name}.log").open("ab")
        # The checkout's packages come first, whatever the editable install maps.
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, **service.env, "PYTHONPATH": path}
        service.process = subprocess.Popen(
            service.command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self._wait_ready(service)
        logger.info("%s ready on %s", name, service.url)

    def kill(self, name: str) -> None:
        """SIGKILL one process, as a crash would; restart() brings it back."""
        service = self.services[name]
        if service.process is not None and service.process.poll() is None:
            service.process.kill()
            service.process.wait()

    def terminate(self, name: str) -> None:
        """SIGTERM one process and wait for it to exit, as an orderly stop would; restart() brings it back."""
        service = self.services[name]
        if service.process is not None and service.process.poll() is None:
            self._terminate(service)

    def pause(self, name: str) -> None:
        """SIGSTOP one process: it holds its connections but answers nothing (a hung server)."""
        self._signal(name, signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self._signal(name, signal.SIGCONT)

    def _signal(self, name: str, sig: signal.Signals) -> None:
        process = self.services[name].process
        if process is not None and process.poll() is None:
            process.send_signal(sig)

    def stop(self) -> None:
        """SIGTERM every process, last started first, and clean up."""
        for service in reversed(self.services.values()):
            if service.process is not None and service.process.poll() is None:
                self._terminate(service)
                logger.info("%s stopped", service.name)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def _terminate(self, service: Service) -> None:
        assert service.process is not None
        service.process.terminate()
        service.process.send_signal(signal.SIGCONT)  # a paused process must run to see SIGTERM
        try:
            service.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            logger.warning("%s ignored SIGTERM for %.0fs; killing it", service.name, STOP_TIMEOUT)
            service.process.kill()
            service.process.wait()

    def _wait_ready(self, service: Service) -> None:
        assert service.process is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._is_ready(service):
            if service.process.poll() is not None:
                raise StackError(
                    f"{service.name} exited with {service.process.returncode}:\n{self.log_tail(service.name)}"
                )
            if time.monotonic() > deadline:
                raise StackError(f"{service.name} not ready in {READY_TIMEOUT:.0f}s:\n{self.log_tail(service.name)}")
            time.sleep(0.1)

    def _is_ready(self, service: Service) -> bool:
        if service.probe == "redis":
            try:
                with redis.Redis(port=service.port, socket_connect_timeout=0.5, socket_timeout=0.5) as pinger:
                    return bool(pinger.ping())
            except redis.RedisError:
                return False
        if service.probe == "mongo":
            try:
                client: pymongo.MongoClient[dict[str, object]]
                with pymongo.MongoClient(self.mongo_url, serverSelectionTimeoutMS=500) as client:
                    client.admin.command("ping")
                return True
            except PyMongoError:
                return False
        try:
            with urllib.request.urlopen(service.url + service.ready_path, timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the distributed stack locally until Ctrl-C.")
    parser.add_argument("--port", type=int, default=8000, help="nginx's port on 127.0.0.1 (default 8000)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/1", help="a Redis database for the stack")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stack = Stack(port=args.port, redis_url=args.redis_url)
    try:
        stack.start()
    except StackError as exc:
        sys.exit(f"stack: {exc}")
    print(
        f"investor-chat on {stack.url} (nodes {', '.join(stack.node_urls())}; "
        f"bot and archiver health on :{stack.port('bot')} and :{stack.port('archiver')}; "
        f"logs in {stack.directory}). Ctrl-C stops everything.",
        flush=True,
    )
    try:
        stop.wait()
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
