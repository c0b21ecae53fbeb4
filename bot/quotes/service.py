"""QuoteService: parse a code, then ask each configured provider in turn until one answers."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Protocol, Self

from bot.quotes.errors import QuoteError
from bot.quotes.stooq import StooqProvider
from bot.quotes.symbols import Instrument, parse_code
from bot.quotes.yahoo import YahooProvider
from core.models import Quote

logger = logging.getLogger(__name__)


class Provider(Protocol):
    name: str

    async def fetch(self, instrument: Instrument) -> Quote: ...

    async def aclose(self) -> None: ...


class QuoteService:
    """Owns one client per provider; `async with QuoteService([...], ...) as quotes`."""

    def __init__(
        self, providers: list[str], *, yahoo_url: str, stooq_url: str, timeout: float
    ) -> None:
        unknown = set(providers) - {"yahoo", "stooq"}
        if not providers or unknown:
            raise ValueError(f"providers must be among yahoo, stooq, got {providers!r}")
        self._names = list(providers)
        self._urls = {"yahoo": yahoo_url, "stooq": stooq_url}
        self._timeout = timeout
        self._providers: list[Provider] = []
        self._stack = AsyncExitStack()

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
        self._providers = []
        await self._stack.aclose()

    async def get(self, code: str) -> Quote:
        """The quote for `code`, or a QuoteError saying which way it failed."""
        if not self._providers:
            raise RuntimeError("QuoteService.get() needs `async with QuoteService(...)` first")
        instrument = parse_code(code)
        failures: list[QuoteError] = []
        for provider in self._providers:
            try:
                # Each provider gets the whole budget once; a failure moves on, nothing loops.
                return await asyncio.wait_for(provider.fetch(instrument), self._timeout)
            except TimeoutError:
                failure = QuoteError("timeout", f"{provider.name} took too long to answer")
            except QuoteError as exc:
                failure = exc
            except Exception:
                # A provider's bug must not stop the next provider from answering.
                logger.exception("%s failed on %s", provider.name, instrument.code)
                failure = QuoteError("provider_error", f"{provider.name} failed")
            logger.info(
                "%s could not quote %s: %s",
                provider.name,
                instrument.code,
                failure.code,
                extra={"provider": provider.name, "symbol": instrument.code, "error": failure.code},
            )
            failures.append(failure)
        if all(failure.code == "unknown_symbol" for failure in failures):
            raise QuoteError("unknown_symbol", f"Unknown stock code {instrument.code}")
        if any(failure.code == "provider_error" for failure in failures):
            raise QuoteError(
                "provider_error", "The quote service is unavailable right now, try again later"
            )
        raise QuoteError("timeout", "The quote service is too slow right now, try again later")


def _open(name: str, url: str, timeout: float) -> Provider:
    if name == "yahoo":
        return YahooProvider(url, timeout)
    return StooqProvider(url, timeout)
