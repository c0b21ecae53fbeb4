"""compose.yaml against the Compose Specification schema, plus what a reviewer would check by eye."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).parent / "data" / "compose-spec" / "compose-spec.json"
APP_IMAGE = "investor-chat:latest"
OFFICIAL = re.compile(r"^(redis|mongo|nginx):[\w.-]+$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    errors = [f"{e.json_path}: {e.message}" for e in jsonschema.Draft201909Validator(schema).iter_errors(compose)]
    assert errors == []


def test_the_schema_catches_a_broken_file(compose: dict[str, Any]) -> None:
    broken = {**compose, "services": {**compose["services"], "bot": {"image": APP_IMAGE, "restart": ["always"]}}}
    assert not jsonschema.Draft201909Validator(json.loads(SCHEMA.read_text())).is_valid(broken)


def test_every_service_runs_the_one_image_or_an_official_one(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"nginx", "server", "bot", "archiver", "redis", "mongo"}
    for name in ("server", "bot", "archiver"):
        assert services[name]["image"] == APP_IMAGE
        assert services[name]["build"]["target"] == "app"
        assert services[name]["command"] == [name]
    for name in ("redis", "mongo"):
        assert OFFICIAL.match(services[name]["image"]), services[name]["image"]
    # nginx is the official image with the client build added (Dockerfile target `web`)
    assert services["nginx"]["build"]["target"] == "web"
    assert re.search(r"^FROM nginx:[\w.-]+ AS web$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)


def test_servers_are_replicated_behind_nginx(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["server"]["deploy"]["replicas"] >= 2
    assert "server" in services["nginx"]["depends_on"]
    nginx_ip = services["nginx"]["networks"]["chat"]["ipv4_address"]
    assert services["server"]["environment"]["CHAT_TRUSTED_PROXIES"] == nginx_ip


def test_every_service_has_a_health_check_and_a_restart_policy(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert service.get("restart") in ("always", "unless-stopped", "on-failure"), name


def test_environment_names_only_real_settings_and_no_secret(compose: dict[str, Any]) -> None:
    known = {f"CHAT_{field.upper()}" for field in Settings.model_fields}
    text = (ROOT / "compose.yaml").read_text()
    assert set(re.findall(r"\bCHAT_[A-Z_]+\b", text)) <= known
    for name in ("server", "bot", "archiver"):
        service = compose["services"][name]
        assert "CHAT_SECRET_KEY" not in service["environment"]
        assert service["env_file"] == "chat.env"
    assert "chat.env" in (ROOT / ".gitignore").read_text().split()


def test_redis_keeps_the_streams_across_restarts(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_the_image_runs_as_a_non_root_user_with_the_cli_as_entrypoint() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM node:20[\w.-]* AS client$", dockerfile, re.MULTILINE)
    assert re.search(r"^FROM python:3\.11-slim AS app$", dockerfile, re.MULTILINE)
    final_stage = dockerfile[dockerfile.rindex("\nFROM ") :]
    assert re.search(r"^USER (?!root)\w+$", final_stage, re.MULTILINE)
    assert 'ENTRYPOINT ["investor-chat"]' in final_stage
    for package in ("core", "quotes", "investing", "server", "bot", "archiver", "probes", "chatkit"):
        assert f"COPY {package}/ {package}/" in dockerfile


def test_export_files_are_on_a_volume_both_nodes_share(compose: dict[str, Any]) -> None:
    # a job runs on one node and its zip is downloaded through whichever node nginx picks
    server = compose["services"]["server"]
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in server["volumes"]}
    assert mounted[server["environment"]["CHAT_EXPORT_DIR"]] in compose["volumes"]
    assert "mkdir -p /app/var/exports && chown -R chat /app/var" in (ROOT / "Dockerfile").read_text()
