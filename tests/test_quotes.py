"""The stock bot's quote library: code parsing, reply wording, both providers on fakes, fallback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.bus.memory import MemoryBus
from core.models import Quote
from quotes import QuoteError, QuoteService, format_reply, parse_code
from quotes.guards import Budget, CircuitBreaker
from quotes.market import exchange_zone, is_stale
from tests.fakes.stooq import FakeStooq
from tests.fakes.yahoo import FakeYahoo

TIMEOUT = 1.0

ServiceFactory = Callable[..., AbstractAsyncContextManager[QuoteService]]


@pytest.fixture
def service(fake_yahoo: FakeYahoo, fake_stooq: FakeStooq) -> ServiceFactory:
    """`async with service("yahoo", "stooq") as quotes`: a QuoteService on both fakes."""

    def make(*providers: str, timeout: float = TIMEOUT, **options: object) -> QuoteService:
        return QuoteService(
            list(providers),
            yahoo_url=fake_yahoo.url,
            stooq_url=fake_stooq.url,
            timeout=timeout,
            **options,  # type: ignore[arg-type]
        )

    return make


async def reply(quotes: QuoteService, code: str) -> tuple[str, Quote]:
    quote = await quotes.get(code)
    return format_reply(parse_code(code), quote), quote


async def error_code(quotes: QuoteService, code: str) -> str:
    with pytest.raises(QuoteError) as caught:
        await quotes.get(code)
    return caught.value.code


# -- Yahoo ---------------------------------------------------------------------------------------


async def test_yahoo_quotes_aapl(service: ServiceFactory, capsys: pytest.CaptureFixture[str]) -> None:
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


@pytest.mark.fastpath  # yfinance-chart-only: the stock Ticker reads an unknown symbol's 404 as an outage
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
        ("empty", "provider_error"),
        ("slow", "timeout"),
    ],
)
async def test_yahoo_failures(service: ServiceFactory, fake_yahoo: FakeYahoo, failure: str, code: str) -> None:
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


async def test_stooq_symbols_are_url_encoded(service: ServiceFactory, fake_stooq: FakeStooq) -> None:
    async with service("stooq") as quotes:
        assert (await reply(quotes, "^GSPC"))[0] == "^SPX is at 5,123.40 points"
        assert (await reply(quotes, "vod.uk"))[0] == "VOD.UK quote is 72.50 GBX per share"
    assert "/q/d/l/?s=%5Espx&i=d" in fake_stooq.requests


async def test_stooq_unknown_symbol(service: ServiceFactory) -> None:
    async with service("stooq") as quotes:
        assert await error_code(quotes, "nosuch.us") == "unknown_symbol"


async def test_stooq_quote_without_history_has_no_change(service: ServiceFactory, fake_stooq: FakeStooq) -> None:
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
        ("empty", "provider_error"),
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


@pytest.mark.fastpath  # yfinance-chart-only: the stock Ticker reads an unknown symbol's 404 as an outage
async def test_unknown_everywhere_is_unknown(service: ServiceFactory) -> None:
    async with service("stooq", "yahoo") as quotes:
        assert await error_code(quotes, "nosuch.us") == "unknown_symbol"


async def test_unknown_and_down_is_not_called_unknown(service: ServiceFactory, fake_stooq: FakeStooq) -> None:
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
    fake_yahoo.set_symbol("RY.TO", "150.25", previous_close="150.00", currency="CAD", timezone="America/Toronto")
    async with service("stooq", "yahoo") as quotes:
        line, result = await reply(quotes, "RY.TO")
    assert (line, result.source) == ("RY.TO quote is 150.25 CAD per share", "yahoo")
    assert fake_stooq.requests == []


async def test_invalid_code_asks_nobody(service: ServiceFactory, fake_yahoo: FakeYahoo, fake_stooq: FakeStooq) -> None:
    async with service("yahoo", "stooq") as quotes:
        assert await error_code(quotes, "<img src=x>") == "invalid_symbol"
    assert fake_yahoo.requests == [] and fake_stooq.requests == []


async def test_healed_provider_answers_again(service: ServiceFactory, fake_yahoo: FakeYahoo) -> None:
    async with service("yahoo") as quotes:
        fake_yahoo.fail("500", symbol="AAPL")
        assert await error_code(quotes, "AAPL") == "provider_error"
        assert (await quotes.get("^GSPC")).price == "5123.4"
        fake_yahoo.fail(None, symbol="AAPL")
        assert (await quotes.get("AAPL")).price == "93.42"


# -- the exchange's clock and stale quotes -------------------------------------------------------

# Saturday 28 Nov 2026, 10:00 UTC: the last closed New York session opened Friday 09:30 EST.
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "as_of", "now", "stale"),
    [
        ("aapl.us", datetime(2026, 11, 27, 21, 0, tzinfo=UTC), SATURDAY, False),  # Friday close
        ("aapl.us", datetime(2026, 11, 26, 21, 0, tzinfo=UTC), SATURDAY, True),  # Thursday close
        # Monday before the open, Friday's close is the latest there is.
        ("aapl.us", datetime(2026, 11, 27, 21, 0, tzinfo=UTC), datetime(2026, 11, 30, 13, tzinfo=UTC), False),
        # Monday after the close, Friday's close is a session behind.
        ("aapl.us", datetime(2026, 11, 27, 21, 0, tzinfo=UTC), datetime(2026, 11, 30, 22, tzinfo=UTC), True),
        ("7203.jp", datetime(2026, 11, 27, 6, 0, tzinfo=UTC), SATURDAY, False),  # Tokyo's Friday
        ("7203.jp", datetime(2026, 11, 26, 6, 0, tzinfo=UTC), SATURDAY, True),
        ("btc-usd", SATURDAY - timedelta(hours=20), SATURDAY, False),  # crypto never closes
        ("btc-usd", SATURDAY - timedelta(days=2), SATURDAY, True),
        ("eurusd", datetime(2026, 11, 27, 21, 0, tzinfo=UTC), SATURDAY, False),  # FX closes Friday
        ("eurusd", datetime(2026, 11, 25, 21, 0, tzinfo=UTC), SATURDAY, True),
    ],
)
def test_a_quote_older_than_one_session_is_stale(code: str, as_of: datetime, now: datetime, stale: bool) -> None:
    assert is_stale(parse_code(code), as_of, now) is stale


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("aapl.us", "America/New_York"),
        ("vod.uk", "Europe/London"),
        ("sap.de", "Europe/Berlin"),
        ("7203.jp", "Asia/Tokyo"),
        ("0700.hk", "Asia/Hong_Kong"),
        ("^dax", "Europe/Berlin"),
        ("^spx", "America/New_York"),
        ("btc.v", "UTC"),
        ("cl.f", "America/New_York"),
    ],
)
def test_each_market_has_its_own_clock(code: str, zone: str) -> None:
    assert exchange_zone(parse_code(code)).key == zone


async def test_quotes_carry_the_exchange_time(service: ServiceFactory) -> None:
    async with service("stooq") as stooq, service("yahoo") as yahoo:
        london = await stooq.get("vod.uk")
        yahoo_london = await yahoo.get("VOD.L")
    assert (london.exchange_tz, london.stale) == ("Europe/London", False)
    local = datetime.fromisoformat(london.as_of_local or "")
    assert local == datetime.fromisoformat(london.as_of)
    assert local.utcoffset() == local.astimezone(ZoneInfo("Europe/London")).utcoffset()
    assert yahoo_london.exchange_tz == "Europe/London"  # Yahoo's exchangeTimezoneName


@pytest.mark.parametrize("provider", ["stooq", "yahoo"])
async def test_an_old_quote_is_labelled_stale(
    service: ServiceFactory, fake_stooq: FakeStooq, fake_yahoo: FakeYahoo, provider: str
) -> None:
    ten_days_ago = datetime.now(UTC) - timedelta(days=10)
    fake_stooq.set_symbol("old.us", "12.50", previous_close="12.00", as_of=ten_days_ago)
    fake_yahoo.set_symbol("OLD", "12.50", previous_close="12.00", as_of=ten_days_ago)
    async with service(provider) as quotes:
        line, result = await reply(quotes, "old.us")
    assert result.stale is True
    assert line.startswith("OLD.US quote is $12.50 per share (stale: last traded ")
    assert line.endswith(("EST)", "EDT)"))


# -- cache, single flight, negative cache, budget ------------------------------------------------


def quote_requests(fake: FakeStooq) -> list[str]:
    return [path for path in fake.requests if path.startswith("/q/l/")]


async def test_a_cached_quote_is_shared_by_every_replica(service: ServiceFactory, fake_stooq: FakeStooq) -> None:
    bus = MemoryBus()
    async with service("stooq", cache=bus, cache_ttl=0.3) as one, service("stooq", cache=bus, cache_ttl=0.3) as other:
        first = await one.get("aapl.us")
        fake_stooq.set_symbol("aapl.us", "99.00", previous_close="92.10")
        assert await other.get("AAPL") == first  # the other replica, the same instrument
        assert len(quote_requests(fake_stooq)) == 1
        await asyncio.sleep(0.4)
        assert (await other.get("aapl.us")).price == "99.00"  # expired: fetched afresh
    assert len(quote_requests(fake_stooq)) == 2


async def test_concurrent_asks_make_one_upstream_call(service: ServiceFactory, fake_stooq: FakeStooq) -> None:
    fake_stooq.fail("slow")  # answers properly, after a while
    fake_stooq.slow_seconds = 0.3
    async with service("stooq") as quotes:
        results = await asyncio.gather(*(quotes.get(code) for code in ["aapl.us", "AAPL"] * 5))
    assert {r.price for r in results} == {"93.42"}
    assert len(quote_requests(fake_stooq)) == 1


async def test_unknown_codes_are_remembered_and_outages_are_not(service: ServiceFactory, fake_stooq: FakeStooq) -> None:
    async with service("stooq", cache=MemoryBus()) as quotes:
        for _ in range(3):
            assert await error_code(quotes, "nosuch.us") == "unknown_symbol"
        assert len(quote_requests(fake_stooq)) == 1
        fake_stooq.fail("limit")
        for _ in range(2):
            assert await error_code(quotes, "aapl.us") == "provider_error"
        fake_stooq.fail(None)
        assert (await quotes.get("aapl.us")).price == "93.42"
    assert len(quote_requests(fake_stooq)) == 4


async def test_the_upstream_budget_says_busy(service: ServiceFactory, fake_stooq: FakeStooq) -> None:
    async with service("stooq", budget=2) as quotes:
        assert (await quotes.get("aapl.us")).price == "93.42"
        assert (await quotes.get("^spx")).price == "5123.40"
        with pytest.raises(QuoteError) as caught:
            await quotes.get("vod.uk")
    assert caught.value.code == "busy" and "busy" in caught.value.message
    assert len(quote_requests(fake_stooq)) == 2


# -- circuit breaker -----------------------------------------------------------------------------


async def test_a_failing_provider_is_skipped_then_retried(
    service: ServiceFactory, fake_yahoo: FakeYahoo, fake_stooq: FakeStooq
) -> None:
    fake_yahoo.fail("500")
    async with service("yahoo", "stooq", breaker_threshold=2, breaker_cooldown=0.3) as quotes:
        for code in ("aapl", "^spx"):
            assert (await quotes.get(code)).source == "stooq"
        asked = len(fake_yahoo.requests)
        assert quotes.breakers["yahoo"].state == "open"
        assert (await quotes.get("vod.uk")).source == "stooq"
        assert len(fake_yahoo.requests) == asked  # open: Yahoo is not even asked
        fake_yahoo.fail(None)
        await asyncio.sleep(0.35)
        assert (await quotes.get("eurusd")).source == "yahoo"  # the half-open trial succeeds
        assert quotes.breakers["yahoo"].state == "closed"


def test_the_breaker_lets_one_trial_through_when_half_open() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=lambda: now[0])
    for _ in range(2):
        breaker.failed()
    assert breaker.allow()  # two failures are not yet three
    breaker.failed()
    assert (breaker.state, breaker.allow()) == ("open", False)
    now[0] = 10
    assert breaker.state == "half-open"
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.failed()  # the trial failed: open again at once
    assert breaker.state == "open"
    now[0] = 20
    assert breaker.allow()
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.allow()


def test_the_budget_refills_over_a_minute() -> None:
    now = [0.0]
    budget = Budget(per_minute=2, clock=lambda: now[0])
    assert [budget.take() for _ in range(3)] == [True, True, False]
    now[0] = 30  # half a minute: one call's worth
    assert [budget.take() for _ in range(2)] == [True, False]
