"""The stock bot's quote library: parse a code, fetch from Yahoo or stooq, word the reply."""

from quotes.errors import QuoteError
from quotes.format import format_reply
from quotes.service import QuoteService
from quotes.symbols import Instrument, parse_code

__all__ = ["Instrument", "QuoteError", "QuoteService", "format_reply", "parse_code"]
