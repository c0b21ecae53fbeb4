"""Chat commands: the text a user sends starting with `/`, parsed the same way by server and bot."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from core.errors import ChatError
from core.trading import (
    MAX_ALERT_DAYS,
    MAX_IDEA_DAYS,
    MAX_MOVE_PCT,
    MAX_WATCHLIST,
    AlertOp,
    IdeaSide,
    parse_amount,
)

HELP_TEXT = (
    "Commands: /stock=CODE or /stock CODE asks for a quote (up to 5 codes, comma separated), "
    "e.g. /stock=aapl.us, /stock AAPL, /stock=^spx, /stock=btc-usd. "
    "/watch CODE… and /unwatch CODE… change your watchlist. "
    "/alert CODE above|below PRICE or /alert CODE move PCT% sets a price alert (add days N for its life). "
    "/idea long|short CODE [target PRICE] [stop PRICE] [days N] posts a trade idea tracked to its outcome. "
    "/help shows this."
)
MAX_CODES = 5
_STOCK = re.compile(r"^/stock(?:=|\s+)\s*(?P<codes>\S.*)$", re.IGNORECASE | re.DOTALL)
_STOCK_BARE = re.compile(r"^/stock\s*=?\s*$", re.IGNORECASE)
_HELP = re.compile(r"^/help\s*$", re.IGNORECASE)
_NAMED = re.compile(r"^/(?P<name>watch|unwatch|alert|idea)(?:\s+(?P<rest>.*))?$", re.IGNORECASE | re.DOTALL)
ALERT_USAGE = (
    "Say /alert CODE above PRICE, /alert CODE below PRICE or /alert CODE move PCT%, e.g. /alert AAPL above 200"
)
IDEA_USAGE = "Say /idea long|short CODE [target PRICE] [stop PRICE] [days N], e.g. /idea long AAPL target 200 stop 180"
_OPS: dict[str, AlertOp] = {"above": "above", "below": "below", "move": "move_pct"}


@dataclass(frozen=True, slots=True)
class AlertSpec:
    symbol: str  # as typed; the bot normalizes it with the quote library
    op: AlertOp
    value: Decimal
    days: int | None


@dataclass(frozen=True, slots=True)
class IdeaSpec:
    side: IdeaSide
    symbol: str
    target: Decimal | None
    stop: Decimal | None
    days: int | None


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: str  # "stock", "help", "watch", "unwatch", "alert" or "idea"
    args: tuple[str, ...]
    alert: AlertSpec | None = None
    idea: IdeaSpec | None = None


def is_command(text: str) -> bool:
    return text.lstrip().startswith("/")


def parse_command(text: str) -> ParsedCommand:
    """Parse a command or raise ChatError (unknown_command, invalid_amount) with a hint."""
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
    named = _NAMED.match(text)
    if named:
        name, words = named["name"].lower(), tuple((named["rest"] or "").replace(",", " ").split())
        if name == "alert":
            return _alert(words)
        if name == "idea":
            return _idea(words)
        if not words:
            raise ChatError("unknown_command", f"Say which codes: /{name} AAPL MSFT")
        if len(words) > MAX_WATCHLIST:
            raise ChatError("unknown_command", f"Name at most {MAX_WATCHLIST} codes at once")
        return ParsedCommand(name, words)
    name = text.split()[0] if text.split() else text
    raise ChatError("unknown_command", f"Unknown command {name[:40]}; try /help")


def _alert(words: tuple[str, ...]) -> ParsedCommand:
    """CODE above|below PRICE [days N], or CODE move PCT% [days N]."""
    if len(words) not in (3, 5) or words[1].lower() not in _OPS:
        raise ChatError("unknown_command", ALERT_USAGE)
    op = _OPS[words[1].lower()]
    options = _options(words[3:], ("days",), ALERT_USAGE)
    value = parse_amount(words[2], "The percentage" if op == "move_pct" else "The price")
    if op == "move_pct" and value > MAX_MOVE_PCT:
        raise ChatError("invalid_amount", f"The percentage must be at most {MAX_MOVE_PCT}")
    days = _days(options.get("days"), MAX_ALERT_DAYS)
    return ParsedCommand("alert", words, alert=AlertSpec(words[0], op, value, days))


def _idea(words: tuple[str, ...]) -> ParsedCommand:
    """long|short CODE, then target PRICE, stop PRICE and days N in any order, each at most once."""
    if len(words) < 2 or len(words) % 2 or words[0].lower() not in ("long", "short"):
        raise ChatError("unknown_command", IDEA_USAGE)
    side: IdeaSide = "long" if words[0].lower() == "long" else "short"
    options = _options(words[2:], ("target", "stop", "days"), IDEA_USAGE)
    target = parse_amount(options["target"], "The target") if "target" in options else None
    stop = parse_amount(options["stop"], "The stop") if "stop" in options else None
    days = _days(options.get("days"), MAX_IDEA_DAYS)
    return ParsedCommand("idea", words, idea=IdeaSpec(side, words[1], target, stop, days))


def _options(words: tuple[str, ...], known: tuple[str, ...], usage: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for key, value in zip(words[::2], words[1::2], strict=True):
        key = key.lower()
        if key not in known or key in options:
            raise ChatError("unknown_command", usage)
        options[key] = value
    return options


def _days(given: str | None, most: int) -> int | None:
    if given is None:
        return None
    if not given.isdigit() or not 1 <= int(given) <= most:
        raise ChatError("invalid_amount", f"days must be a whole number from 1 to {most}")
    return int(given)
