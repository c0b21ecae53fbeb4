"""The one error type of the quote library, a ChatError with the bot's stable codes."""

from __future__ import annotations

from typing import Literal

from core.errors import ChatError

QuoteErrorCode = Literal["invalid_symbol", "unknown_symbol", "provider_error", "timeout", "busy"]

# The HTTP-ish status says whose fault it is: the asker's code, or a provider that let us down.
_STATUS: dict[str, int] = {
    "invalid_symbol": 400,
    "unknown_symbol": 404,
    "provider_error": 502,
    "timeout": 504,
    "busy": 503,  # our own upstream budget is spent
}


class QuoteError(ChatError):
    """A quote could not be had; `code` is one of QuoteErrorCode."""

    def __init__(self, code: QuoteErrorCode, message: str) -> None:
        super().__init__(code, message, _STATUS[code])
