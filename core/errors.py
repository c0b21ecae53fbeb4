"""The one error type of investor-chat: a stable snake_case code, a human message, an HTTP status."""

from __future__ import annotations

from pydantic import ValidationError


class ChatError(Exception):
    """An error meant for the client; REST, Socket.IO acks and connect refusals all carry it."""

    def __init__(self, code: str, message: str, status: int = 400, **details: str | float) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details  # what the client acts on besides the code: `until` of a mute, `retry_after`

    def as_dict(self) -> dict[str, str | float]:
        return {"code": self.code, "message": self.message, **self.details}

    def as_ack(self) -> dict[str, object]:
        """The answer of a Socket.IO event that failed with this error."""
        return {"ok": False, "error": self.as_dict()}

    def __repr__(self) -> str:
        return f"ChatError({self.code!r}, {self.message!r}, status={self.status})"


def first_error(exc: ValidationError) -> tuple[str, str]:
    """The first thing a validation found wrong: its dotted location ("" for the whole) and its message.
    Clients and operators are told one thing at a time, the same way everywhere."""
    first = exc.errors()[0]
    return ".".join(str(part) for part in first["loc"]), first["msg"]
