"""Stock codes as users type them, mapped to each provider, and replies worded as traders write."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from core.models import Quote
from quotes import QuoteError, QuoteService, format_reply, parse_code

TIMEOUT = 1.0

ServiceFactory = Callable[..., AbstractAsyncContextManager[QuoteService]]


# -- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "kind", "yahoo", "stooq"),
    [
        ("aapl.us", "AAPL.US", "share", "AAPL", "aapl.us"),
        ("AAPL", "AAPL.US", "share", "AAPL", "aapl.us"),
        ("  aapl ", "AAPL.US", "share", "AAPL", "aapl.us"),
        ("brk-b.us", "BRK-B.US", "share", "BRK-B", "brk-b.us"),
        ("BRK-B", "BRK-B.US", "share", "BRK-B", "brk-b.us"),
        ("vod.uk", "VOD.UK", "share", "VOD.L", "vod.uk"),
        ("VOD.L", "VOD.UK", "share", "VOD.L", "vod.uk"),
        ("sap.de", "SAP.DE", "share", "SAP.DE", "sap.de"),
        ("7203.jp", "7203.JP", "share", "7203.T", "7203.jp"),
        ("7203.T", "7203.JP", "share", "7203.T", "7203.jp"),
        ("0700.HK", "0700.HK", "share", "0700.HK", "0700.hk"),
        ("0700.hk", "0700.HK", "share", "0700.HK", "0700.hk"),
        ("SAP.DE", "SAP.DE", "share", "SAP.DE", "sap.de"),
        ("BRK.B", "BRK-B.US", "share", "BRK-B", "brk-b.us"),
        ("brk-b", "BRK-B.US", "share", "BRK-B", "brk-b.us"),
        ("gc.f", "GC.F", "future", "GC=F", "gc.f"),
        ("GC=F", "GC.F", "future", "GC=F", "gc.f"),
        ("eth.v", "ETH-USD", "crypto", "ETH-USD", "eth.v"),
        ("gbpjpy=x", "GBPJPY", "fx", "GBPJPY=X", "gbpjpy"),
        ("RY.TO", "RY.TO", "share", "RY.TO", None),
        ("^spx", "^SPX", "index", "^GSPC", "^spx"),
        ("^GSPC", "^SPX", "index", "^GSPC", "^spx"),
        ("^dji", "^DJI", "index", "^DJI", "^dji"),
        ("^IXIC", "^NDQ", "index", "^IXIC", "^ndq"),
        ("^ndx", "^NDX", "index", "^NDX", "^ndx"),
        ("^FTSE", "^UKX", "index", "^FTSE", "^ukx"),
        ("^dax", "^DAX", "index", "^GDAXI", "^dax"),
        ("^N225", "^NKX", "index", "^N225", "^nkx"),
        ("^hsi", "^HSI", "index", "^HSI", "^hsi"),
        ("btc.v", "BTC-USD", "crypto", "BTC-USD", "btc.v"),
        ("BTC-USD", "BTC-USD", "crypto", "BTC-USD", "btc.v"),
        ("eurusd", "EURUSD", "fx", "EURUSD=X", "eurusd"),
        ("EURUSD=X", "EURUSD", "fx", "EURUSD=X", "eurusd"),
        ("cl.f", "CL.F", "future", "CL=F", "cl.f"),
        ("CL=F", "CL.F", "future", "CL=F", "cl.f"),
    ],
)
def test_codes_map_to_both_providers(text: str, code: str, kind: str, yahoo: str, stooq: str | None) -> None:
    instrument = parse_code(text)
    assert (instrument.code, instrument.kind) == (code, kind)
    assert (instrument.yahoo_symbol, instrument.stooq_symbol) == (yahoo, stooq)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "aapl us",
        "A" * 21,
        "<script>",
        "aapl.us;rm",
        "^",
        "eur=x",
        "aapl..",
        ".us",
        "aapl/us",
        "ä",
    ],
)
def test_odd_codes_are_invalid(text: str) -> None:
    with pytest.raises(QuoteError) as caught:
        parse_code(text)
    assert caught.value.code == "invalid_symbol"
    assert caught.value.as_dict()["code"] == "invalid_symbol"


# -- wording -------------------------------------------------------------------------------------


def quote(price: str, currency: str = "USD") -> Quote:
    return Quote(
        symbol="X",
        price=price,
        currency=currency,
        as_of="2024-11-27T21:00:00.000Z",
        market_state="closed",
        source="stooq",
    )


@pytest.mark.parametrize(
    ("code", "price", "currency", "line"),
    [
        ("aapl.us", "93.42", "USD", "AAPL.US quote is $93.42 per share"),
        ("AAPL", "93.4", "USD", "AAPL.US quote is $93.40 per share"),
        ("aapl.us", "1234.5678", "USD", "AAPL.US quote is $1,234.5678 per share"),
        ("vod.uk", "72.5", "GBX", "VOD.UK quote is 72.50 GBX per share"),
        ("7203.jp", "2512", "JPY", "7203.JP quote is 2,512.00 JPY per share"),
        ("^spx", "5123.4", "USD", "^SPX is at 5,123.40 points"),
        ("BTC-USD", "64000.12", "USD", "BTC-USD is at $64,000.12"),
        ("eurusd", "1.0842", "USD", "EURUSD is at 1.0842"),
        ("cl.f", "78.1", "USD", "CL.F is at $78.10"),
    ],
)
def test_replies_read_like_a_trader_writes(code: str, price: str, currency: str, line: str) -> None:
    assert format_reply(parse_code(code), quote(price, currency)) == line


def test_a_stale_quote_says_so_on_its_exchange_clock() -> None:
    old = quote("93.42").model_copy(
        update={"as_of": "2026-11-25T21:00:00.000Z", "exchange_tz": "America/New_York", "stale": True}
    )
    assert format_reply(parse_code("aapl.us"), old) == (
        "AAPL.US quote is $93.42 per share (stale: last traded Wed 25 Nov 16:00 EST)"
    )
