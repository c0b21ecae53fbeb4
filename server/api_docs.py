"""Routes declared once (handler, models, error codes) and the OpenAPI 3.1 document built from them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REF = "#/components/schemas/{model}"
SECURED: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]

# The status each REST error code is answered with (ChatError's `status` where it is raised).
ERROR_STATUS: dict[str, int] = {
    "invalid_json": 400,
    "invalid_payload": 400,
    "invalid_parameter": 400,
    "invalid_username": 400,
    "invalid_password": 400,
    "invalid_channel_name": 400,
    "unauthorized": 401,
    "invalid_credentials": 401,
    "forbidden_origin": 403,
    "too_many_channels": 403,
    "not_channel_owner": 403,
    "forbidden": 403,
    "banned": 403,
    "muted": 403,
    "invite_required": 403,
    "registration_closed": 403,
    "account_suspended": 403,
    "invalid_role": 400,
    "invalid_symbol": 400,
    "invalid_amount": 400,
    "user_not_found": 404,
    "not_a_member": 404,
    "channel_not_found": 404,
    "message_not_found": 404,
    "alert_not_found": 404,
    "hold_not_found": 404,
    "export_not_found": 404,
    "unknown_symbol": 404,
    "username_taken": 409,
    "channel_exists": 409,
    "watchlist_full": 409,
    "already_crossed": 409,
    "too_many_alerts": 409,
    "hold_exists": 409,
    "export_running": 409,
    "export_not_ready": 409,
    "payload_too_large": 413,
    "too_many_attempts": 429,
    "rate_limited": 429,
    "internal_error": 500,
    "provider_error": 502,
    "history_catching_up": 503,
    "busy": 503,
    "timeout": 504,
}


class ErrorDetail(BaseModel):
    code: str
    message: str


class Error(BaseModel):
    """Every REST error: one code from the operation's list for its status, and words for a human."""

    error: ErrorDetail


@dataclass(frozen=True)
class Reply:
    """A documented answer that is not an error: a pydantic model's JSON, other `media_type`, or none."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    media_type: str | None = "application/json"


@dataclass(frozen=True)
class Route:
    """One REST operation, registered and documented from this alone. `body` and `query` are the
    models the handler validates with; `errors` the codes it answers with beyond those every route of
    its kind has (bad body or query, not logged in, internal_error)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    handler: Handler
    summary: str
    ok: Reply
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    secured: bool = False
    errors: tuple[str, ...] = ()
    also: tuple[Reply, ...] = ()  # other answers that are not ChatErrors (readiness's 503)

    def error_codes(self) -> list[str]:
        codes = [*self.errors]
        if self.body:
            codes += ["invalid_json", "invalid_payload", "payload_too_large"]
        if self.query:
            codes.append("invalid_parameter")
        if self.secured:
            codes.append("unauthorized")
        return list(dict.fromkeys([*codes, "internal_error"]))


DOCUMENTED = web.AppKey("documented", list[Route])


def add_routes(app: web.Application, routes: Iterable[Route]) -> None:
    """Register `routes` on the app and keep them for its OpenAPI document."""
    if DOCUMENTED not in app:
        app[DOCUMENTED] = []
    for route in routes:
        if route.method == "GET":
            app.router.add_get(route.path, route.handler)  # and HEAD, as aiohttp does by default
        else:
            app.router.add_route(route.method, route.path, route.handler)
        app[DOCUMENTED].append(route)


@lru_cache(maxsize=8)
def openapi_document(routes: tuple[Route, ...]) -> dict[str, Any]:
    """The document for these routes; cached, so whoever gets it must not change it."""
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(Error, "serialization"): None}
    for route in routes:
        if route.body:
            wanted[(route.body, "validation")] = None
        for reply in (route.ok, *route.also):
            if reply.model:
                wanted[(reply.model, "serialization")] = None
    schemas, top = models_json_schema(list(wanted), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "investor-chat",
            "version": "1",
            "description": "REST API; real-time events are on Socket.IO at /socket.io/.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "chat_session"},  # server.api.COOKIE
            },
            "schemas": top.get("$defs", {}),
        },
    }


def _operation(route: Route, schemas: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": route.summary}
    if route.secured:
        operation["security"] = SECURED
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", route.path)
    ]
    if route.query:
        parameters += _query_parameters(route.query)
    if parameters:
        operation["parameters"] = parameters
    if route.body:
        content = {"application/json": {"schema": schemas[(route.body, "validation")]}}
        operation["requestBody"] = {"required": True, "content": content}
    responses: dict[str, Any] = {}
    for reply in (route.ok, *route.also):
        responses[str(reply.status)] = _reply(reply, schemas)
    by_status: dict[int, list[str]] = {}
    for code in route.error_codes():
        by_status.setdefault(ERROR_STATUS[code], []).append(code)
    for status, codes in sorted(by_status.items()):
        content = {"application/json": {"schema": schemas[(Error, "serialization")]}}
        responses[str(status)] = {"description": ", ".join(codes), "content": content}
    operation["responses"] = responses
    return operation


def _reply(reply: Reply, schemas: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    if reply.media_type is None:
        return {"description": reply.description}
    if reply.model:
        schema = schemas[(reply.model, "serialization")]
    elif reply.media_type == "application/json":
        schema = {"type": "object"}
    else:
        schema = {"type": "string"}
    return {"description": reply.description, "content": {reply.media_type: {"schema": schema}}}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """One parameter per field. An optional field is said by leaving it out, so its `null` goes."""
    schema = model.model_json_schema()
    parameters = []
    for name, field in schema["properties"].items():
        field = {k: v for k, v in field.items() if k != "title"}
        description = field.pop("description", None)
        if "anyOf" in field:
            kinds = [k for k in field.pop("anyOf") if k != {"type": "null"}]
            field = {**kinds[0], **field} if len(kinds) == 1 else {"anyOf": kinds, **field}
        if field.get("default", 0) is None:
            del field["default"]
        parameter = {"name": name, "in": "query", "required": name in schema.get("required", ()), "schema": field}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters
