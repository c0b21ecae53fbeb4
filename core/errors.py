"""The one error type of investor-chat: a stable snake_case code, a human message, an HTTP status."""

from __future__ import annotations


class ChatError(Exception):
    """An error meant for the client; REST, Socket.IO acks and connect refusals all carry it."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

    def __repr__(self) -> str:
        return f"ChatError({self.code!r}, {self.message!r}, status={self.status})"
