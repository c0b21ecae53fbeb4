"""A watchlist's codes, normalized like /stock codes."""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import ChatError
from core.trading import MAX_WATCHLIST
from quotes import parse_code


def normalized(codes: Iterable[str]) -> list[str]:
    """Each code as parse_code names it (aapl -> AAPL.US), each once, in the order given; QuoteError
    invalid_symbol for one that is not a code."""
    return list(dict.fromkeys(parse_code(code).code for code in codes))


def watched(current: list[str], add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[str]:
    """The watchlist after adding and removing codes; ChatError watchlist_full past MAX_WATCHLIST."""
    gone = set(normalized(remove))
    after = [code for code in dict.fromkeys([*current, *normalized(add)]) if code not in gone]
    if len(after) > MAX_WATCHLIST:
        raise ChatError("watchlist_full", f"A watchlist holds at most {MAX_WATCHLIST} codes", 409)
    return after
