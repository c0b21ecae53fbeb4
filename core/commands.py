"""Chat commands: the text a user sends starting with `/`, parsed the same way by server and bot."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import ChatError

HELP_TEXT = (
    "Commands: /stock=CODE or /stock CODE asks for a quote (up to 5 codes, comma separated), "
    "e.g. /stock=aapl.us, /stock AAPL, /stock=^spx, /stock=btc-usd. /help shows this."
)
MAX_CODES = 5
_STOCK = re.compile(r"^/stock(?:=|\s+)\s*(?P<codes>\S.*)$", re.IGNORECASE | re.DOTALL)
_STOCK_BARE = re.compile(r"^/stock\s*=?\s*$", re.IGNORECASE)
_HELP = re.compile(r"^/help\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: str  # "stock" or "help"
    args: tuple[str, ...]


def is_command(text: str) -> bool:
    return text.lstrip().startswith("/")


def parse_command(text: str) -> ParsedCommand:
    """Parse a command or raise ChatError unknown_command with a hint."""
    text = text.strip()
    if _HELP.match(text):
        return ParsedCommand("help", ())
    if _STOCK_BARE.match(text):
        raise ChatError("unknown_command", "Say which code: /stock=aapl.us, or several: /stock AAPL,MSFT")
    match = _STOCK.match(text)
    if match:
        codes = tuple(c.strip() for c in match["codes"].split(",") if c.strip())
        if not codes:
            raise ChatError("unknown_command", "Say which code: /stock=aapl.us, or several: /stock AAPL,MSFT")
        if len(codes) > MAX_CODES:
            raise ChatError("unknown_command", f"Ask for at most {MAX_CODES} codes at once")
        return ParsedCommand("stock", codes)
    name = text.split()[0] if text.split() else text
    raise ChatError("unknown_command", f"Unknown command {name[:40]}; try /help")
