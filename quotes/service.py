"""QuoteService: parse a code, answer from the shared cache, else ask each provider in turn."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, Self

import orjson
from pydantic import ValidationError

from core.bus import Cache
from core.models import Quote
from core.settings import Settings
from quotes.errors import QuoteError
from quotes.guards import Budget, CircuitBreaker
from quotes.market import exchange_zone, is_stale, zone_named
from quotes.stooq import StooqProvider
from quotes.symbols import Instrument, parse_code
from quotes.yahoo import YahooProvider

logger = logging.getLogger(__name__)

NEGATIVE_TTL = 300.0  # seconds an unknown code is remembered as unknown
BREAKER_THRESHOLD = 5  # consecutive provider failures that open its circuit
BREAKER_COOLDOWN = 30.0  # seconds an open circuit waits before a trial call


class Provider(Protocol):
    name: str

    async def fetch(self, instrument: Instrument) -> Quote: ...

    async def aclose(self) -> None: ...


class QuoteService:
    """Owns one client per provider; `async with QuoteService([...], ...) as quotes`.

    A quote is served from `cache` for `cache_ttl` seconds, concurrent asks for one instrument
    share one upstream call, each provider sits behind a circuit breaker, and at most `budget`
    provider calls a minute leave this process.
    """

    def __init__(
        self,
        providers: list[str],
        *,
        yahoo_url: str,
        stooq_url: str,
        timeout: float,
        cache: Cache | None = None,
        cache_ttl: float = 15.0,
        budget: int = 120,
        breaker_threshold: int = BREAKER_THRESHOLD,
        breaker_cooldown: float = BREAKER_COOLDOWN,
    ) -> None:
        unknown = set(providers) - {"yahoo", "stooq"}
        if not providers or unknown:
            raise ValueError(f"providers must be among yahoo, stooq, got {providers!r}")
        self._names = list(providers)
        self._urls = {"yahoo": yahoo_url, "stooq": stooq_url}
        self._timeout = timeout
        self._cache = cache
        self._cache_ttl = cache_ttl
        self._budget = Budget(budget)
        self.breakers = {name: CircuitBreaker(breaker_threshold, breaker_cooldown) for name in providers}
        self._providers: list[Provider] = []
        self._inflight: dict[str, asyncio.Task[Quote]] = {}
        self._stack = AsyncExitStack()

    @classmethod
    def from_settings(cls, settings: Settings, cache: Cache | None = None) -> QuoteService:
        return cls(
            settings.providers,
            yahoo_url=settings.yahoo_url,
            stooq_url=settings.stooq_url,
            timeout=settings.quote_timeout,
            cache=cache,
            cache_ttl=settings.quote_cache_ttl,
            budget=settings.quote_budget,
        )

    async def __aenter__(self) -> Self:
        async with AsyncExitStack() as stack:
            for name in self._names:
                provider = _open(name, self._urls[name], self._timeout)
                stack.push_async_callback(provider.aclose)
                self._providers.append(provider)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        inflight = list(self._inflight.values())
        for task in inflight:
            task.cancel()
        await asyncio.gather(*inflight, return_exceptions=True)
        self._providers = []
        await self._stack.aclose()

    async def get(self, code: str) -> Quote:
        """The quote for `code`, or a QuoteError saying which way it failed."""
        if not self._providers:
            raise RuntimeError("QuoteService.get() needs `async with QuoteService(...)` first")
        instrument = parse_code(code)
        cached = await self._cached(instrument)
        if cached is not None:
            return cached
        task = self._inflight.get(instrument.code)
        if task is None:
            task = asyncio.create_task(self._fetch(instrument), name=f"quote {instrument.code}")
            self._inflight[instrument.code] = task
            task.add_done_callback(lambda done: self._landed(instrument.code, done))
        # Shielded: one asker giving up must not cancel the call the others wait on.
        return await asyncio.shield(task)

    async def cached(self, code: str) -> Quote | None:
        """The quote for `code` if answering it costs no upstream call (cached), else None; a QuoteError
        for a code that is invalid or known to be unknown."""
        instrument = parse_code(code)
        return await self._cached(instrument)

    def _landed(self, key: str, task: asyncio.Task[Quote]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an unawaited failure logs no warning

    async def _fetch(self, instrument: Instrument) -> Quote:
        try:
            quote = await self._ask_providers(instrument)
        except QuoteError as exc:
            if exc.code == "unknown_symbol":
                await self._remember(instrument, {"unknown": exc.message}, NEGATIVE_TTL)
            raise
        await self._remember(instrument, {"quote": quote.model_dump()}, self._cache_ttl)
        return quote

    async def _cached(self, instrument: Instrument) -> Quote | None:
        """The cached quote, None on a miss; raises the cached QuoteError for a known unknown."""
        if self._cache is None or self._cache_ttl <= 0:
            return None
        try:
            raw = await self._cache.cache_get(_cache_key(instrument))
        except Exception as exc:
            # A cache that is down only costs an upstream call.
            logger.warning("quote cache unreadable: %r", exc, extra={"symbol": instrument.code})
            return None
        if raw is None:
            return None
        try:
            data: dict[str, Any] = orjson.loads(raw)
            unknown = data.get("unknown")
            quote = None if unknown is not None else Quote.model_validate(data["quote"])
        except (ValueError, KeyError, TypeError, AttributeError, ValidationError):
            return None  # written by another version, say: refetch
        if quote is None:
            raise QuoteError("unknown_symbol", str(unknown))
        return quote

    async def _remember(self, instrument: Instrument, data: dict[str, Any], ttl: float) -> None:
        if self._cache is None or self._cache_ttl <= 0:
            return
        try:
            await self._cache.cache_set(_cache_key(instrument), orjson.dumps(data), ttl)
        except Exception as exc:
            logger.warning("quote cache unwritable: %r", exc, extra={"symbol": instrument.code})

    async def _ask_providers(self, instrument: Instrument) -> Quote:
        failures: list[QuoteError] = []
        for provider in self._providers:
            # Each provider gets the whole budget once; a failure moves on, nothing loops.
            outcome = await self._ask(provider, instrument)
            if isinstance(outcome, Quote):
                return _localized(instrument, outcome)
            logger.info(
                "%s could not quote %s: %s",
                provider.name,
                instrument.code,
                outcome.code,
                extra={"provider": provider.name, "symbol": instrument.code, "error": outcome.code},
            )
            failures.append(outcome)
        raise _verdict(instrument, failures)

    async def _ask(self, provider: Provider, instrument: Instrument) -> Quote | QuoteError:
        breaker = self.breakers[provider.name]
        if breaker.state == "open":
            return QuoteError("provider_error", f"{provider.name} is paused after repeated failures")
        if not self._budget.take():
            logger.warning("upstream budget spent", extra={"provider": provider.name})
            return QuoteError("busy", "The quote service is busy, try again in a minute")
        if not breaker.allow():
            return QuoteError("provider_error", f"{provider.name} is being retried, try again soon")
        try:
            quote = await asyncio.wait_for(provider.fetch(instrument), self._timeout)
        except TimeoutError:
            failure = QuoteError("timeout", f"{provider.name} took too long to answer")
        except QuoteError as exc:
            failure = exc
        except Exception:
            # A provider's bug must not stop the next provider from answering.
            logger.exception("%s failed on %s", provider.name, instrument.code)
            failure = QuoteError("provider_error", f"{provider.name} failed")
        else:
            breaker.succeeded()
            return quote
        if failure.code == "unknown_symbol":
            breaker.succeeded()  # it answered, and sensibly
        else:
            breaker.failed()
        return failure


def _verdict(instrument: Instrument, failures: list[QuoteError]) -> QuoteError:
    """One error for the asker out of every provider's failure; "unknown" only if all said so."""
    codes = {failure.code for failure in failures}
    if codes == {"unknown_symbol"}:
        return QuoteError("unknown_symbol", f"Unknown stock code {instrument.code}")
    if "busy" in codes:
        return QuoteError("busy", "The quote service is busy, try again in a minute")
    if "provider_error" in codes:
        return QuoteError("provider_error", "The quote service is unavailable right now, try again later")
    return QuoteError("timeout", "The quote service is too slow right now, try again later")


def _localized(instrument: Instrument, quote: Quote) -> Quote:
    """The quote with its time on the exchange's clock and its stale flag."""
    zone = zone_named(quote.exchange_tz) or exchange_zone(instrument)
    as_of = datetime.fromisoformat(quote.as_of)
    return quote.model_copy(
        update={
            "exchange_tz": zone.key,
            "as_of_local": as_of.astimezone(zone).isoformat(timespec="seconds"),
            "stale": is_stale(instrument, as_of, datetime.now(UTC)),
        }
    )


def _cache_key(instrument: Instrument) -> str:
    return f"quote:{instrument.code}"


def _open(name: str, url: str, timeout: float) -> Provider:
    if name == "yahoo":
        return YahooProvider(url, timeout)
    return StooqProvider(url, timeout)
