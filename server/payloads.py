"""What clients send, validated at the edge: the Socket.IO events' payloads and REST bodies alike,
refused as `invalid_payload` with the first thing wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from core.errors import ChatError, first_error
from core.models import MAX_SEQ, MAX_TEXT

Model = TypeVar("Model", bound=BaseModel)


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore")
    channel: StrictStr = Field(max_length=100)


class JoinPayload(Event):
    after: StrictInt | None = Field(None, ge=0, le=MAX_SEQ)  # past a 64-bit integer the store cannot ask


class ReadPayload(Event):
    seq: StrictInt = Field(ge=0, le=MAX_SEQ)  # the newest seq the user has seen in the channel


class SendPayload(Event):
    text: StrictStr = Field(max_length=4 * MAX_TEXT)  # longer than the limit: answered message_too_long
    client_id: StrictStr | None = Field(None, min_length=1, max_length=64)
    reply_to: StrictStr | None = Field(None, min_length=1, max_length=64)  # a message id of the channel


class MessageRef(Event):
    """delete, pin, unpin: one message of the channel."""

    id: StrictStr = Field(min_length=1, max_length=64)


class EditPayload(MessageRef):
    text: StrictStr = Field(max_length=4 * MAX_TEXT)


class ReactPayload(MessageRef):
    emoji: StrictStr = Field(min_length=1, max_length=16)


def validate(model: type[Model], data: Any, *, where: str = "payload") -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        path, problem = first_error(exc)
        raise ChatError("invalid_payload", f"{path or where}: {problem}") from None


def event_payload(model: type[Model], args: tuple[Any, ...]) -> Model:
    """An event's one JSON object, as `model`."""
    if len(args) != 1 or not isinstance(args[0], dict):
        raise ChatError("invalid_payload", "Send one JSON object as the event's payload")
    return validate(model, args[0])


def validate_query(model: type[Model], query: Mapping[str, str]) -> Model:
    """A query string as `model` (a parameter left empty counts as left out), or 400 invalid_parameter."""
    given = {name: query[name] for name in query if query[name] != ""}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        path, problem = first_error(exc)
        raise ChatError("invalid_parameter", f"{path or 'query'}: {problem}", 400) from None
