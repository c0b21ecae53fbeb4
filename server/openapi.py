"""The OpenAPI 3.1 description of the REST API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from core.models import Message

_ERROR_CODES = {
    400: "Bad input: invalid_json, invalid_payload, invalid_username, invalid_password, "
    "invalid_channel_name, invalid_parameter",
    401: "unauthorized or invalid_credentials",
    403: "forbidden_origin: a cookie-authenticated change, or a login from a browser, from a foreign page; "
    "too_many_channels; not_channel_owner or forbidden (#general) on a deletion",
    404: "channel_not_found or not_found",
    409: "username_taken or channel_exists",
    413: "payload_too_large",
    429: "too_many_attempts or rate_limited",
    500: "internal_error",
}


def _error(status: int) -> dict[str, Any]:
    return {
        "description": _ERROR_CODES[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _error(s) for s in statuses}


_SEQ = {"type": "integer", "minimum": 0}
_CHANNEL = {
    "type": "object",
    "required": ["name", "created_by", "created_at"],
    "properties": {"name": {"type": "string"}, "created_by": {"type": "string"}, "created_at": {"type": "string"}},
}
_SECURED: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "investor-chat",
        "version": "1",
        "description": "REST API; real-time events are on Socket.IO at /socket.io/.",
    },
    "paths": {
        "/api/register": {
            "post": {
                "summary": "Create an account and log in",
                "requestBody": _body("Credentials"),
                "responses": {
                    "201": _json("Session", "Registered; also sets the session cookie"),
                    **_errors(400, 403, 409, 413, 429, 500),
                },
            }
        },
        "/api/login": {
            "post": {
                "summary": "Log in",
                "requestBody": _body("Credentials"),
                "responses": {
                    "200": _json("Session", "Logged in; also sets the session cookie"),
                    **_errors(400, 401, 403, 413, 429, 500),
                },
            }
        },
        "/api/logout": {
            "post": {
                "summary": "Log out: the token stops working and the cookie is cleared",
                "security": _SECURED,
                "responses": {"204": {"description": "Logged out"}, **_errors(401, 403, 500)},
            }
        },
        "/api/me": {
            "get": {
                "summary": "Who is logged in",
                "security": _SECURED,
                "responses": {"200": _json("Me", "The user"), **_errors(401, 500)},
            }
        },
        "/api/channels": {
            "get": {
                "summary": "All channels, sorted by name",
                "security": _SECURED,
                "responses": {"200": _json("ChannelList", "Channels"), **_errors(401, 500)},
            },
            "post": {
                "summary": "Create a channel; every connected client gets channel_created",
                "security": _SECURED,
                "requestBody": _body("NewChannel"),
                "responses": {"201": _json("Channel", "Created"), **_errors(400, 401, 403, 409, 413, 429, 500)},
            },
        },
        "/api/channels/{name}": {
            "delete": {
                "summary": "Delete a channel you created (not #general); every connected client gets "
                "channel_deleted; its archived messages stay",
                "security": _SECURED,
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json("Channel", "Deleted"), **_errors(401, 403, 404, 500)},
            }
        },
        "/api/channels/{name}/messages": {
            "get": {
                "summary": "A page of a channel's history in seq order",
                "security": _SECURED,
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                    },
                    {
                        "name": "before",
                        "in": "query",
                        "description": "only seq below this",
                        "schema": {"type": "integer", "minimum": 1},
                    },
                    {
                        "name": "after",
                        "in": "query",
                        "description": "only seq above this; pages forward",
                        "schema": _SEQ,
                    },
                ],
                "responses": {"200": _json("MessagePage", "Messages"), **_errors(400, 401, 404, 500)},
            }
        },
        "/api/quotes": {
            "get": {
                "summary": "Quotes for up to 10 codes (stooq or Yahoo form), cached for a few seconds",
                "security": _SECURED,
                "parameters": [
                    {
                        "name": "symbols",
                        "in": "query",
                        "required": True,
                        "description": "comma separated, e.g. AAPL,vod.uk,^spx",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _json(
                        "QuoteList", "One quote per code that could be had, one error per code that could not"
                    ),
                    "429": {**_error(500), "description": "rate_limited"},
                    **_errors(400, 401, 500),
                },
            }
        },
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "Running"}}}},
        "/readyz": {
            "get": {
                "summary": "Readiness: store and bus answer",
                "responses": {"200": {"description": "Ready"}, "503": {"description": "Not ready"}},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {
                    "200": {
                        "description": "Prometheus text format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "chat_session"},
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            },
            "Credentials": {
                "type": "object",
                "required": ["username", "password"],
                "properties": {
                    "username": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{3,32}$"},
                    "password": {"type": "string", "description": "8 to 72 bytes in UTF-8"},
                },
            },
            "Session": {
                "type": "object",
                "required": ["username", "token"],
                "properties": {"username": {"type": "string"}, "token": {"type": "string"}},
            },
            "Me": {"type": "object", "required": ["username"], "properties": {"username": {"type": "string"}}},
            "NewChannel": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string", "pattern": "^[a-z0-9_-]{3,50}$"}},
            },
            "Channel": _CHANNEL,
            "ChannelList": {
                "type": "object",
                "required": ["channels"],
                "properties": {"channels": {"type": "array", "items": _CHANNEL}},
            },
            "Message": Message.model_json_schema(ref_template="#/components/schemas/{model}"),
            "QuoteList": {
                "type": "object",
                "required": ["quotes", "errors", "resolved"],
                "properties": {
                    "quotes": {"type": "array", "items": {"$ref": "#/components/schemas/Quote"}},
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["symbol", "code", "message"],
                            "properties": {
                                "symbol": {"type": "string", "description": "the code as requested"},
                                "code": {
                                    "type": "string",
                                    "enum": ["invalid_symbol", "unknown_symbol", "provider_error", "timeout", "busy"],
                                },
                                "message": {"type": "string"},
                            },
                        },
                    },
                    "resolved": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "requested code -> the `symbol` of its quote",
                    },
                },
            },
            "MessagePage": {
                "type": "object",
                "required": ["messages", "has_more"],
                "properties": {
                    "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                    "has_more": {"type": "boolean"},
                },
            },
        },
    },
}
# pydantic puts nested models under $defs; OpenAPI wants them beside the others
OPENAPI["components"]["schemas"].update(OPENAPI["components"]["schemas"]["Message"].pop("$defs", {}))
