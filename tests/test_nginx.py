"""The nginx config: valid for the real nginx binary, and saying what the distributed setup needs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.nginx_config import COMPOSE, COMPOSE_CONF, local_settings, render

ROOT = Path(__file__).resolve().parent.parent


def test_the_local_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is not installed: apt-get install -y nginx")
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        render(local_settings(tmp_path, 18080, ["127.0.0.1:18081", "127.0.0.1:18082"], ROOT / "client" / "dist"))
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_compose_config_is_rendered_from_the_template() -> None:
    assert COMPOSE_CONF.read_text() == render(COMPOSE), "run: python -m scripts.nginx_config"


def test_the_config_balances_by_address_and_upgrades_websockets() -> None:
    conf = COMPOSE_CONF.read_text()
    upstream = conf[conf.index("upstream chat_nodes {") :]
    upstream = upstream[: upstream.index("}")]
    assert "ip_hash;" in upstream and "server server:8080;" in upstream
    assert "map $http_upgrade $connection_upgrade" in conf
    for header in (
        "Host $http_host",
        "X-Forwarded-For $proxy_add_x_forwarded_for",
        "X-Forwarded-Proto $scheme",
        "X-Forwarded-Host $http_host",
        "Upgrade $http_upgrade",
        "Connection $connection_upgrade",
    ):
        assert f"proxy_set_header {header};" in conf
    # above the Socket.IO ping interval (25 s) plus ping timeout (20 s)
    assert "proxy_read_timeout 75s;" in conf and "proxy_send_timeout 75s;" in conf
    assert "client_max_body_size 64k;" in conf
    assert "location = /metrics {\n            return 404;" in conf
    assert "try_files $uri /index.html;" in conf


def test_a_limit_past_what_nginx_takes_is_rendered_as_its_most(tmp_path: Path) -> None:
    conf = render(local_settings(tmp_path, 18080, ["127.0.0.1:18081"], ROOT / "client" / "dist", 100_000))
    assert "limit_conn sockets_per_address 65535;" in conf
