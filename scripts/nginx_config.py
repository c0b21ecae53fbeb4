"""Renders nginx/nginx.conf.template: for compose (nginx/nginx.conf) or for the local stack."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from server.middleware import CSP

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "nginx" / "nginx.conf.template"
COMPOSE_CONF = ROOT / "nginx" / "nginx.conf"
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
NGINX_MAX_CONN = 65535  # the most limit_conn takes


@dataclass(frozen=True)
class NginxSettings:
    listen: str
    upstreams: Sequence[str]  # host:port of every server node
    client_root: str
    pid: str
    error_log: str
    access_log: str
    temp_dir: str
    mime_types: str = "/etc/nginx/mime.types"
    # open Socket.IO connections one address may hold through nginx (CHAT_MAX_SOCKETS_PER_ADDRESS's default)
    sockets_per_address: int = 200


# In compose, `server` resolves to every replica of the server service when nginx starts.
COMPOSE = NginxSettings(
    listen="80",
    upstreams=["server:8080"],
    client_root="/usr/share/nginx/html",
    pid="/tmp/nginx.pid",
    error_log="/dev/stderr",
    access_log="/dev/stdout",
    temp_dir="/var/cache/nginx",
)


def local_settings(
    directory: Path, port: int, upstreams: Sequence[str], client_root: Path, sockets_per_address: int = 200
) -> NginxSettings:
    """Everything under `directory`, so nginx runs without root and without touching /var."""
    return NginxSettings(
        listen=f"127.0.0.1:{port}",
        upstreams=upstreams,
        client_root=str(client_root),
        pid=str(directory / "nginx.pid"),
        error_log=str(directory / "error.log"),
        access_log=str(directory / "access.log"),
        temp_dir=str(directory),
        sockets_per_address=sockets_per_address,
    )


def render(settings: NginxSettings) -> str:
    values = {
        "listen": settings.listen,
        "upstream_servers": "\n".join(f"        server {address};" for address in settings.upstreams),
        "client_root": settings.client_root,
        "pid": settings.pid,
        "error_log": settings.error_log,
        "access_log": settings.access_log,
        "temp_dir": settings.temp_dir,
        "mime_types": settings.mime_types,
        "sockets_per_address": str(min(settings.sockets_per_address, NGINX_MAX_CONN)),
        "csp": CSP,
    }
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], TEMPLATE.read_text())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Render nginx/nginx.conf (compose) from its template.")
    parser.add_argument("--check", action="store_true", help="fail when nginx/nginx.conf is out of date")
    args = parser.parse_args(argv)
    text = render(COMPOSE)
    if args.check:
        if COMPOSE_CONF.read_text() != text:
            sys.exit("nginx/nginx.conf is out of date: run python -m scripts.nginx_config")
        return
    COMPOSE_CONF.write_text(text)


if __name__ == "__main__":
    main()
