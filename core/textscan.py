"""What the server reads out of a message's text: its cashtags, the names it mentions and its words.
One copy for the send path, the notifier, the stores' search indexes and the web client's rules
(client/src/lib/cashtags.ts, client/src/lib/mentions.ts)."""

from __future__ import annotations

import re
import unicodedata

# The web client's cashtag (client/src/lib/cashtags.ts), in Python's `re`: `$`, not after a word
# character or `$`; a letter, letters or digits, up to two `.X`/`-X` parts and an optional `=X`.
CASHTAG = re.compile(
    r"(?<![\w$])\$([A-Za-z][A-Za-z0-9]{0,11}(?:[.-][A-Za-z0-9]{1,6}){0,2}(?:=[A-Za-z])?)(?![\w$]|[.\-=]\w)"
)
MAX_CASHTAGS = 10  # the client's MAX_CASHTAGS: more in one message are not chips, stamps or index entries
# `@name` not after a word character, `@` or `.` (so an e-mail address mentions nobody), a name as
# USERNAME_RE allows it; a trailing `.`, `-` or `_` is punctuation, not the name's ("thanks @bob.").
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.\-]{2,32}[A-Za-z0-9])(?![\w@])")
MAX_MENTIONS = 20  # distinct names one message mentions at most; the rest are plain text
HERE = "@here"  # in `mentions`: everyone in the channel online when it was posted
CHANNEL = "@channel"  # in `mentions`: every member of the channel
# Words as search matches them: letters and digits (any script), apostrophes inside a word dropped.
WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
MAX_WORD = 40  # longer "words" (hashes, URLs' paths) are not indexed


def cashtags(text: str) -> list[str]:
    """The codes of the text's cashtags, upper-cased, each once, in order, at most MAX_CASHTAGS."""
    if "$" not in text:
        return []
    return list(dict.fromkeys(m.group(1).upper() for m in CASHTAG.finditer(text)))[:MAX_CASHTAGS]


def mention_names(text: str) -> list[str]:
    """The names written as `@name`, lower-cased, each once, in order, at most MAX_MENTIONS; `here` and
    `channel` among them stand for @here and @channel."""
    if "@" not in text:
        return []
    return list(dict.fromkeys(m.group(1).lower() for m in MENTION.finditer(text)))[:MAX_MENTIONS]


def fold(word: str) -> str:
    """A word as search compares it: lower-cased, accents dropped, apostrophes gone (don't = dont)."""
    if word.isascii():  # most words: nothing to decompose, at under half the cost (every archived message is folded)
        return word.lower().replace("'", "")
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c) and c not in "'\u2019")


def words(text: str) -> list[str]:
    """The text's distinct words as search matches them (fold()), in order, those up to MAX_WORD long."""
    out = dict.fromkeys(fold(m.group(0)) for m in WORD.finditer(text))
    return [w for w in out if 0 < len(w) <= MAX_WORD]
