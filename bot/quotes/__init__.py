"""The stock bot's quote library: parse a code, fetch from Yahoo or stooq, word the reply."""

from bot.quotes.errors import QuoteError
from bot.quotes.format import format_reply
from bot.quotes.service import QuoteService
from bot.quotes.symbols import Instrument, parse_code

__all__ = ["Instrument", "QuoteError", "QuoteService", "format_reply", "parse_code"]
