"""The served /api/openapi.json tells the truth: schemathesis fuzzes the live server with it, authenticated."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.apps import PASSWORD, ChatClient, http_session

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 40


def fuzz(base_url: str, token: str, fresh_token: Callable[[], str]) -> list[str]:
    """Every operation, positive and negative inputs; the failures as text (empty when the spec holds)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                # logging out revokes the token it is called with, so it gets its own
                bearer = fresh_token() if case.path == "/api/logout" else token
                response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {bearer}"})
                case.validate_response(response, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:  # no inputs to make invalid (GET /healthz): nothing to try
                continue
            except Exception as exc:  # collect all, report together
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return failures


@pytest.fixture
async def lenient_server(make_server: Callable[..., Awaitable[TestServer]]) -> TestServer:
    """A server whose login throttle does not get in the way of thousands of fuzzed logins."""
    return await make_server(login_rate=10_000, login_burst=10_000)


# 40 examples each way for every operation: about forty operations since #21, minutes on a busy box
@pytest.mark.timeout(300)
async def test_served_openapi_matches_the_live_server(lenient_server: TestServer) -> None:
    base_url = str(lenient_server.make_url("")).rstrip("/")
    async with http_session() as http:
        client = await ChatClient(base_url, http).register("fuzzer")

    def fresh_token() -> str:
        resp = requests.post(f"{base_url}/api/login", json={"username": "fuzzer", "password": PASSWORD}, timeout=10)
        return str(resp.json()["token"])

    # the fuzzer speaks blocking HTTP; a thread keeps this loop free to serve it
    failures = await asyncio.to_thread(fuzz, base_url, client.token, fresh_token)
    assert not failures, "\n\n".join(failures)
