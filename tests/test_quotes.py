"""The stock bot's quote library: code parsing, reply wording, both providers on fakes, fallback."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from bot.quotes import QuoteError, QuoteService, format_reply, parse_code
from core.models import Quote
from tests.fakes.stooq import FakeStooq
from tests.fakes.yahoo import FakeYahoo

TIMEOUT = 1.0

ServiceFactory = Callable[..., AbstractAsyncContextManager[QuoteService]]


@pytest.fixture
def service(fake_yahoo: FakeYahoo, fake_stooq: FakeStooq) -> ServiceFactory:
    """`async with service("yahoo", "stooq") as quotes`: a QuoteService on both fakes."""

    def make(*providers: str, timeout: float = TIMEOUT) -> QuoteService:
        return QuoteService(
            list(providers), yahoo_url=fake_yahoo.url, stooq_url=fake_stooq.url, timeout=timeout
        )

    return make


async def reply(quotes: QuoteService, code: str) -> tuple[str, Quote]:
    quote = await quotes.get(code)
    return format_reply(parse_code(code), quote), quote


async def error_code(quotes: QuoteService, code: str) -> str:
    with pytest.raises(QuoteError) as caught:
        await quotes.get(code)
    return caught.value.code


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
def test_codes_map_to_both_providers(
    text: str, code: str, kind: str, yahoo: str, stooq: str | None
) -> None:
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


# -- Yahoo ---------------------------------------------------------------------------------------


async def test_yahoo_quotes_aapl(
    service: ServiceFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    async with service("yahoo") as quotes:
        line, result = await reply(quotes, "AAPL.US")
    assert line == "AAPL.US quote is $93.42 per share"
    assert (result.symbol, result.name, result.source) == ("AAPL.US", "Apple Inc.", "yahoo")
    assert (result.price, result.currency, result.change, result.change_pct) == (
        "93.42",
        "USD",
        "1.32",
        "1.43",
    )
    assert result.market_state == "open"
    assert result.as_of.endswith("Z")
    assert len(result.series) == 30 and result.series[-2:] == ["92.1", "93.42"]
    assert capsys.readouterr().out == ""  # yfinance prints nothing into the bot's output


async def test_yahoo_pence_and_index(service: ServiceFactory) -> None:
    async with service("yahoo") as quotes:
        assert (await reply(quotes, "VOD.L"))[0] == "VOD.UK quote is 72.50 GBX per share"
        assert (await reply(quotes, "^spx"))[0] == "^SPX is at 5,123.40 points"
        assert (await reply(quotes, "eurusd"))[0] == "EURUSD is at 1.0842"


@pytest.mark.parametrize("state", ["open", "closed", "pre-market", "after-hours"])
async def test_yahoo_market_state_follows_trading_period(
    service: ServiceFactory, fake_yahoo: FakeYahoo, state: str
) -> None:
    fake_yahoo.set_symbol("MSFT", "410.5", previous_close="400", market_state=state)
    async with service("yahoo") as quotes:
        result = await quotes.get("msft.us")
    assert (result.market_state, result.change, result.change_pct) == (state, "10.5", "2.63")


async def test_yahoo_unknown_symbol(service: ServiceFactory, fake_yahoo: FakeYahoo) -> None:
    async with service("yahoo") as quotes:
        assert await error_code(quotes, "nosuch.us") == "unknown_symbol"
    assert any(path.startswith("/v8/finance/chart/NOSUCH?") for path in fake_yahoo.requests)


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        ("429", "provider_error"),
        ("500", "provider_error"),
        ("html", "provider_error"),
        ("malformed", "provider_error"),
        ("slow", "timeout"),
    ],
)
async def test_yahoo_failures(
    service: ServiceFactory, fake_yahoo: FakeYahoo, failure: str, code: str
) -> None:
    fake_yahoo.fail(failure)  # type: ignore[arg-type]
    fake_yahoo.slow_seconds = 2 * TIMEOUT
    async with service("yahoo") as quotes:
        started = time.monotonic()
        assert await error_code(quotes, "AAPL") == code
    assert time.monotonic() - started < TIMEOUT + 0.5


# -- stooq ---------------------------------------------------------------------------------------


async def test_stooq_quotes_aapl(service: ServiceFactory, fake_stooq: FakeStooq) -> None:
    async with service("stooq") as quotes:
        line, result = await reply(quotes, "AAPL")
    assert line == "AAPL.US quote is $93.42 per share"
    assert (result.price, result.currency, result.change, result.change_pct) == (
        "93.42",
        "USD",
        "1.32",
        "1.43",
    )
    assert (result.name, result.source) == ("APPLE", "stooq")
    assert result.as_of.endswith("Z") and result.market_state in {
        "open",
        "closed",
        "pre-market",
        "after-hours",
    }
    assert len(result.series) == 30 and result.series[-2:] == ["92.10", "93.42"]
    assert "/q/l/?s=aapl.us&f=sd2t2ohlcvn&h&e=csv" in fake_stooq.requests


async def test_stooq_symbols_are_url_encoded(
    service: ServiceFactory, fake_stooq: FakeStooq
) -> None:
    async with service("stooq") as quotes:
        assert (await reply(quotes, "^GSPC"))[0] == "^SPX is at 5,123.40 points"
        assert (await reply(quotes, "vod.uk"))[0] == "VOD.UK quote is 72.50 GBX per share"
    assert "/q/d/l/?s=%5Espx&i=d" in fake_stooq.requests


async def test_stooq_unknown_symbol(service: ServiceFactory) -> None:
    async with service("stooq") as quotes:
        assert await error_code(quotes, "nosuch.us") == "unknown_symbol"


async def test_stooq_quote_without_history_has_no_change(
    service: ServiceFactory, fake_stooq: FakeStooq
) -> None:
    fake_stooq.set_symbol("new.us", "10.00", series=[])
    async with service("stooq") as quotes:
        result = await quotes.get("new.us")
    assert (result.price, result.change, result.series) == ("10.00", None, ["10.00"])


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        ("html", "provider_error"),
        ("limit", "provider_error"),
        ("429", "provider_error"),
        ("500", "provider_error"),
        ("malformed", "provider_error"),
        ("slow", "timeout"),
    ],
)
async def test_stooq_failures_are_never_unknown(
    service: ServiceFactory, fake_stooq: FakeStooq, failure: str, code: str
) -> None:
    fake_stooq.fail(failure)  # type: ignore[arg-type]
    fake_stooq.slow_seconds = 2 * TIMEOUT
    async with service("stooq") as quotes:
        started = time.monotonic()
        assert await error_code(quotes, "aapl.us") == code
    assert time.monotonic() - started < TIMEOUT + 0.5


# -- fallback ------------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["500", "slow", "429"])
async def test_falls_back_to_stooq_when_yahoo_fails(
    service: ServiceFactory, fake_yahoo: FakeYahoo, failure: str
) -> None:
    fake_yahoo.fail(failure)  # type: ignore[arg-type]
    fake_yahoo.slow_seconds = 2 * TIMEOUT
    async with service("yahoo", "stooq") as quotes:
        line, result = await reply(quotes, "AAPL")
    assert (line, result.source) == ("AAPL.US quote is $93.42 per share", "stooq")


async def test_one_provider_unknown_still_asks_the_next(
    service: ServiceFactory, fake_yahoo: FakeYahoo, fake_stooq: FakeStooq
) -> None:
    fake_stooq.set_symbol("only.us", "5.25", previous_close="5.00")
    async with service("yahoo", "stooq") as quotes:
        result = await quotes.get("ONLY")
    assert (result.source, result.price, result.change_pct) == ("stooq", "5.25", "5.00")


async def test_unknown_everywhere_is_unknown(service: ServiceFactory) -> None:
    async with service("stooq", "yahoo") as quotes:
        assert await error_code(quotes, "nosuch.us") == "unknown_symbol"


async def test_unknown_and_down_is_not_called_unknown(
    service: ServiceFactory, fake_stooq: FakeStooq
) -> None:
    fake_stooq.fail("limit")
    async with service("stooq", "yahoo") as quotes:
        assert await error_code(quotes, "nosuch.us") == "provider_error"


async def test_all_slow_gives_up_within_the_budget(
    service: ServiceFactory, fake_yahoo: FakeYahoo, fake_stooq: FakeStooq
) -> None:
    for fake in (fake_yahoo, fake_stooq):
        fake.fail("slow")
        fake.slow_seconds = 5.0
    async with service("yahoo", "stooq", timeout=0.5) as quotes:
        started = time.monotonic()
        assert await error_code(quotes, "AAPL") == "timeout"
    assert time.monotonic() - started < 2 * 0.5 + 0.5


async def test_yahoo_only_market_skips_stooq(
    service: ServiceFactory, fake_yahoo: FakeYahoo, fake_stooq: FakeStooq
) -> None:
    fake_yahoo.set_symbol(
        "RY.TO", "150.25", previous_close="150.00", currency="CAD", timezone="America/Toronto"
    )
    async with service("stooq", "yahoo") as quotes:
        line, result = await reply(quotes, "RY.TO")
    assert (line, result.source) == ("RY.TO quote is 150.25 CAD per share", "yahoo")
    assert fake_stooq.requests == []


async def test_invalid_code_asks_nobody(
    service: ServiceFactory, fake_yahoo: FakeYahoo, fake_stooq: FakeStooq
) -> None:
    async with service("yahoo", "stooq") as quotes:
        assert await error_code(quotes, "<img src=x>") == "invalid_symbol"
    assert fake_yahoo.requests == [] and fake_stooq.requests == []


async def test_healed_provider_answers_again(
    service: ServiceFactory, fake_yahoo: FakeYahoo
) -> None:
    async with service("yahoo") as quotes:
        fake_yahoo.fail("500", symbol="AAPL")
        assert await error_code(quotes, "AAPL") == "provider_error"
        assert (await quotes.get("^GSPC")).price == "5123.4"
        fake_yahoo.fail(None, symbol="AAPL")
        assert (await quotes.get("AAPL")).price == "93.42"
