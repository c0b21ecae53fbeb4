"""The OpenAPI document is built from the routes' declarations: nothing served under /api (or by ops)
goes undescribed, and every schema it points to is in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from server.api_docs import DOCUMENTED, openapi_document
from server.standalone import create_standalone_app
from tests.apps import settings_for

OPS_PATHS = {"/healthz", "/readyz", "/metrics"}


def served_operations(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route the API description must cover; HEAD comes free with GET."""
    return {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and (route.resource.canonical.startswith("/api/") or route.resource.canonical in OPS_PATHS)
        and route.method != "HEAD"
    }


def described_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, operations in document["paths"].items() for method in operations}


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def test_every_served_api_route_is_described(tmp_path: Path) -> None:
    app = create_standalone_app(settings_for(tmp_path))
    document = openapi_document(tuple(app[DOCUMENTED]))
    served = served_operations(app)
    assert ("get", "/api/channels/{name}/messages") in served and ("get", "/healthz") in served
    assert served == described_operations(document)


def test_a_route_added_without_a_declaration_is_caught(tmp_path: Path) -> None:
    async def secret(request: web.Request) -> web.Response:
        return web.json_response({})

    app = create_standalone_app(settings_for(tmp_path))
    app.router.add_post("/api/secret", secret)
    missing = served_operations(app) - described_operations(openapi_document(tuple(app[DOCUMENTED])))
    assert missing == {("post", "/api/secret")}


def test_every_schema_referred_to_is_in_the_document(tmp_path: Path) -> None:
    document = openapi_document(tuple(create_standalone_app(settings_for(tmp_path))[DOCUMENTED]))
    schemas = document["components"]["schemas"]
    assert {"Credentials", "Session", "ChannelList", "MessagePage", "Message", "Quote", "QuoteList", "Error"} <= set(
        schemas
    )
    assert refs(document) == {f"#/components/schemas/{name}" for name in schemas}


def test_the_history_query_is_described_by_the_model_that_checks_it(tmp_path: Path) -> None:
    document = openapi_document(tuple(create_standalone_app(settings_for(tmp_path))[DOCUMENTED]))
    operation = document["paths"]["/api/channels/{name}/messages"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
    assert parameters["before"] == {
        "name": "before",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**62},
        "description": "only seq below this",
    }
    assert parameters["name"]["in"] == "path"
    assert operation["security"] == [{"bearer": []}, {"cookie": []}]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404", "429", "500", "503"}
    assert "banned" in operation["responses"]["403"]["description"]
    assert "invalid_parameter" in operation["responses"]["400"]["description"]
