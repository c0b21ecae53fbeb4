"""Search speed on a big SQLite store: how long Store.search takes over a million messages, per kind of
query, and optionally the same queries through GET /api/search on a standalone server.

    python bench/search.py                           # 1,000,000 messages: a few minutes to fill
    python bench/search.py --messages 100000 --http  # a smaller store, and the HTTP figures too

It fills a SQLite store in a temp dir through core.store's open_store and save_messages (batches of 2,000,
as the archiver writes) with chat-like messages: words drawn from a vocabulary with a Zipf-like
distribution (a few words are in every other message, most are rare), a cashtag in about one message in
five, ~50 channels of which a few are private, ~500 authors, busy and quiet channels and authors alike.
Then it runs a shuffled mix of searches, each kind with its own random picks, and prints p50/p95/p99 per
kind and overall, and the fill time. The reader may read every public channel and two of the private
ones, as a member would; `public only` is a reader of the public channels alone.

Over HTTP (--http) the server allows a user only a few searches a second (server/search_api.py), so the
queries are spread over HTTP_USERS users; each is timed alone, one after another, from request to parsed
answer.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.models import Channel, Message, iso
from core.store import Store, open_store

BATCH = 2000  # archiver/worker.py's BATCH: how the archive writes
VOCABULARY = 50_000
CASHTAGS = 300
CHANNELS, PRIVATE = 50, 5
AUTHORS = 500
READER_PRIVATE = 2  # of the private channels, the reader is a member of these
HTTP_USERS = 40  # searches are limited per user: the HTTP run spreads over this many of each reader
PAGE = 20  # GET /api/search's default limit
COMMON = ("the", "to", "and", "a", "is", "on", "for", "i", "it", "in", "this", "buy", "earnings", "market")
FINANCE = (
    "long", "short", "calls", "puts", "guidance", "revenue", "margin", "dividend", "buyback", "split", "beat",
    "miss", "upgrade", "downgrade", "target", "support", "resistance", "breakout", "rally", "selloff", "dip",
    "volume", "float", "squeeze", "hedge", "options", "expiry", "strike", "premium", "yield", "bond", "rates",
    "fed", "inflation", "cpi", "jobs", "payrolls", "oil", "gold", "bitcoin", "crypto", "chart", "trend",
    "momentum", "value", "growth", "sector", "tech", "energy", "banks", "retail", "semis", "ai", "chips", "cloud",
    "quarter", "outlook", "forecast", "analyst", "consensus"
)  # fmt: skip
TICKERS = (
    "AAPL", "TSLA", "NVDA", "MSFT", "AMZN", "META", "GOOGL", "AMD", "NFLX", "SPY", "QQQ", "JPM", "BAC", "XOM",
    "CVX", "INTC", "PLTR", "COIN", "SHOP", "UBER"
)  # fmt: skip
KINDS = (
    "common word", "rare word", "two words", "cashtag", "author only", "channel + word",
    "public only", "page 2",
)  # fmt: skip


def syllable_words(count: int, rng: random.Random) -> list[str]:
    """Made-up but pronounceable words, each once: the long tail of a chat's vocabulary."""
    onsets = (
        "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "st", "tr",
        "ch"
    )  # fmt: skip
    vowels, codas = "aeiou", "nrstlmk"
    out: dict[str, None] = {}
    while len(out) < count:
        parts = rng.randint(1, 3)
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(parts)) + rng.choice(["", *codas])
        out.setdefault(word, None)
    return list(out)


def zipf_weights(n: int, s: float) -> list[float]:
    """Cumulative weights of ranks 1..n with P(rank k) ~ 1/k^s, for random.choices(cum_weights=...)."""
    return list(itertools.accumulate(1 / k**s for k in range(1, n + 1)))


@dataclass
class Corpus:
    """What the messages are made of, and the reader's view of the channels."""

    seed: int
    rng: random.Random = field(init=False)
    vocabulary: list[str] = field(init=False)
    tickers: list[str] = field(init=False)
    channels: list[str] = field(init=False)
    authors: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        common = list(dict.fromkeys([*COMMON, *FINANCE]))
        self.vocabulary = common + [w for w in syllable_words(VOCABULARY, self.rng) if w not in common]
        self.vocabulary = self.vocabulary[:VOCABULARY]
        self.tickers = list(dict.fromkeys([*TICKERS, *(w.upper()[:5] for w in self.vocabulary[200 : 200 + CASHTAGS])]))
        self.tickers = self.tickers[:CASHTAGS]
        self.channels = [f"desk-{k:02d}" for k in range(CHANNELS)]
        self.authors = [f"trader{k:03d}" for k in range(AUTHORS)]
        self.word_cw = zipf_weights(len(self.vocabulary), 1.07)
        self.tag_cw = zipf_weights(len(self.tickers), 1.2)
        self.channel_cw = zipf_weights(CHANNELS, 0.8)
        self.author_cw = zipf_weights(AUTHORS, 0.9)

    @property
    def private(self) -> list[str]:
        return self.channels[-PRIVATE:]  # the quiet end: private desks are small

    @property
    def public(self) -> list[str]:
        return self.channels[:-PRIVATE]

    @property
    def readable(self) -> list[str]:
        return self.public + self.private[:READER_PRIVATE]

    def text(self) -> str:
        rng = self.rng
        words = rng.choices(self.vocabulary, cum_weights=self.word_cw, k=rng.randint(3, 22))
        if rng.random() < 0.2:
            for tag in rng.choices(self.tickers, cum_weights=self.tag_cw, k=rng.choice((1, 1, 1, 2))):
                words.insert(rng.randrange(len(words) + 1), f"${tag}")
        if rng.random() < 0.3:
            words[-1] += rng.choice("?!.")
        return " ".join(words)

    def messages(self, total: int) -> Iterator[list[Message]]:
        """`total` messages in batches of BATCH, oldest first, two seconds apart."""
        seqs = dict.fromkeys(self.channels, 0)
        start = datetime(2026, 1, 5, 8, tzinfo=UTC)
        batch: list[Message] = []
        for i in range(total):
            channel = self.rng.choices(self.channels, cum_weights=self.channel_cw)[0]
            seqs[channel] += 1
            user = self.rng.choices(self.authors, cum_weights=self.author_cw)[0]
            ts = iso(start + timedelta(seconds=2 * i))
            batch.append(
                Message(seq=seqs[channel], id=f"{i:024x}", channel=channel, user=user, text=self.text(), ts=ts)
            )
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


async def fill(path: Path, corpus: Corpus, total: int) -> float:
    """The store with its channels (the HTTP readers members of the reader's private ones) and `total`
    messages; the seconds it took."""
    store = await open_store(f"sqlite:///{path}")
    try:
        started = time.perf_counter()
        created = iso(datetime(2026, 1, 5, tzinfo=UTC))
        for name in corpus.channels:
            private = name in corpus.private
            channel = Channel(
                name=name, created_by="trader000", created_at=created, visibility="private" if private else "public"
            )
            await store.create_channel(channel)
        for name in corpus.private[:READER_PRIVATE]:
            for k in range(HTTP_USERS):
                await store.set_member(name, f"benchreader{k:05d}", "member")
        for i, batch in enumerate(corpus.messages(total), 1):
            await store.save_messages(batch)
            if i % 50 == 0:
                done = i * BATCH
                rate = done / (time.perf_counter() - started)
                print(f"  {done:,} messages, {rate:,.0f}/s", file=sys.stderr, flush=True)
        return time.perf_counter() - started
    finally:
        await store.close()


@dataclass(frozen=True)
class Query:
    """One search: the store's arguments (words already folded) and what the HTTP request says."""

    kind: str
    words: tuple[str, ...] = ()
    cashtags: tuple[str, ...] = ()
    channel: str | None = None
    user: str | None = None
    public_only: bool = False
    second_page: bool = False

    def params(self) -> dict[str, str]:
        q = " ".join([*self.words, *(f"${t}" for t in self.cashtags)])
        given = {"q": q, "channel": self.channel, "user": self.user}
        return {k: v for k, v in given.items() if v}


def queries(corpus: Corpus, per_kind: int, seed: int) -> list[Query]:
    """`per_kind` searches of every kind, shuffled so each kind meets the same moments of a busy box."""
    rng = random.Random(seed)
    vocab = corpus.vocabulary

    def word(low: int, high: int) -> str:
        return vocab[rng.randrange(low, high)]

    makers = {
        "common word": lambda: Query("common word", (word(0, 10),)),
        "rare word": lambda: Query("rare word", (word(20_000, VOCABULARY),)),
        "two words": lambda: Query("two words", (word(30, 300), word(30, 300))),
        "cashtag": lambda: Query("cashtag", cashtags=(rng.choices(corpus.tickers, cum_weights=corpus.tag_cw)[0],)),
        "author only": lambda: Query("author only", user=rng.choice(corpus.authors)),
        "channel + word": lambda: Query("channel + word", (word(10, 200),), channel=rng.choice(corpus.readable)),
        "public only": lambda: Query("public only", (word(10, 100),), public_only=True),
        "page 2": lambda: Query("page 2", (word(0, 30),), second_page=True),
    }
    mix = [makers[kind]() for kind in KINDS for _ in range(per_kind)]
    rng.shuffle(mix)
    return mix


async def timed_store_search(store: Store, corpus: Corpus, query: Query) -> tuple[float, int]:
    """Milliseconds of the search (of its second page for `page 2`) and the hits it found."""
    if query.channel:
        channels: Sequence[str] = [query.channel]
    else:
        channels = corpus.public if query.public_only else corpus.readable
    args: dict[str, Any] = {
        "words": list(query.words), "cashtags": list(query.cashtags), "channels": channels, "user": query.user,
        "limit": PAGE,
    }  # fmt: skip
    before = None
    if query.second_page:
        _, before = await store.search(**args, before=None)
    started = time.perf_counter()
    hits, _ = await store.search(**args, before=before)
    return (time.perf_counter() - started) * 1000, len(hits)


async def run_store(path: Path, corpus: Corpus, mix: list[Query]) -> dict[str, list[tuple[float, int]]]:
    store = await open_store(f"sqlite:///{path}")
    try:
        for query in mix[:20]:  # warm the page cache and the statements
            await timed_store_search(store, corpus, query)
        results: dict[str, list[tuple[float, int]]] = {kind: [] for kind in KINDS}
        for query in mix:
            results[query.kind].append(await timed_store_search(store, corpus, query))
        return results
    finally:
        await store.close()


def percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def table(title: str, results: dict[str, list[tuple[float, int]]]) -> str:
    lines = [f"**{title}**", "", "| query | searches | p50 ms | p95 ms | p99 ms | max ms | hits per search |"]
    lines.append("|---|---|---|---|---|---|---|")
    rows = [*results.items(), ("all", [r for kind in results.values() for r in kind])]
    for kind, runs in rows:
        if not runs:
            continue
        ms = [r[0] for r in runs]
        hits = statistics.mean(r[1] for r in runs)
        lines.append(
            f"| {kind} | {len(runs)} | {percentile(ms, 50):.2f} | {percentile(ms, 95):.2f} | "
            f"{percentile(ms, 99):.2f} | {max(ms):.2f} | {hits:.1f} |"
        )
    return "\n".join(lines)


def http_tokens(base: str) -> dict[bool, list[str]]:
    """The HTTP readers' tokens (members of the reader's private channels, made so by `fill`), and the
    public-only readers' (members of nothing)."""
    from concurrent.futures import ThreadPoolExecutor

    from bench.procs import user_token

    with ThreadPoolExecutor(8) as pool:
        readers = list(pool.map(lambda k: user_token(base, k, "benchreader"), range(HTTP_USERS)))
        public = list(pool.map(lambda k: user_token(base, k, "benchpublic"), range(HTTP_USERS)))
    return {False: readers, True: public}


class Paced:
    """Tokens taken in turn, none more often than the server's search rate allows."""

    def __init__(self, tokens: list[str], interval: float) -> None:
        self.tokens, self.interval = tokens, interval
        self.last = dict.fromkeys(range(len(tokens)), 0.0)
        self.turn = itertools.cycle(range(len(tokens)))

    async def next(self) -> str:
        k = next(self.turn)
        wait = self.last[k] + self.interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self.last[k] = time.monotonic()
        return self.tokens[k]


async def http_search(http: Any, base: str, token: str, params: dict[str, str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    async with http.get(f"{base}/api/search", params=params, headers={"Authorization": f"Bearer {token}"}) as resp:
        body: dict[str, Any] = await resp.json()
        if resp.status != 200:
            raise SystemExit(f"GET /api/search {params} answered {resp.status}: {body}")
    return (time.perf_counter() - started) * 1000, body


async def http_mix(base: str, tokens: dict[bool, list[str]], mix: list[Query]) -> dict[str, list[tuple[float, int]]]:
    import aiohttp

    from server.search_api import SEARCH_RATE

    paced = {public: Paced(t, 1.05 / SEARCH_RATE) for public, t in tokens.items()}
    results: dict[str, list[tuple[float, int]]] = {kind: [] for kind in KINDS}
    async with aiohttp.ClientSession() as http:
        for n, query in enumerate(mix[:20] + mix):  # the first 20: warming up
            pace = paced[query.public_only]
            params = {**query.params(), "limit": str(PAGE)}
            if query.second_page:
                _, first = await http_search(http, base, await pace.next(), params)
                params["before"] = first["next_before"] or ""
            ms, body = await http_search(http, base, await pace.next(), params)
            if n >= 20:
                results[query.kind].append((ms, len(body["hits"])))
    return results


def run_http(root: Path, path: Path, mix: list[Query]) -> dict[str, list[tuple[float, int]]]:
    """The mix through GET /api/search of a standalone server on the filled store."""
    from bench.procs import Children, Product

    children = Children(root)
    product = Product(
        children, root / "server", nodes=1, redis_url=None, rate=100, burst=200, storage_url=f"sqlite:///{path}"
    )
    try:
        product.start()
        return asyncio.run(http_mix(product.base, http_tokens(product.base), mix))
    finally:
        children.stop_all()


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=1_000_000, help="messages in the store (default 1,000,000)")
    ap.add_argument("--queries", type=int, default=200, help=f"searches of each kind ({len(KINDS)} kinds)")
    ap.add_argument("--http", action="store_true", help="the same searches through GET /api/search too")
    ap.add_argument("--seed", type=int, default=22)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with the filled store (its path is said)")
    ap.add_argument("--store", help="a store an earlier --keep run filled (same --messages and --seed): no fill")
    return ap.parse_args()


def main() -> None:
    a = parse_args()
    corpus = Corpus(a.seed)
    root = Path(tempfile.mkdtemp(prefix="investor-chat-search-"))
    path = Path(a.store) if a.store else root / "search.sqlite3"
    try:
        if not a.store:
            print(f"filling {path} with {a.messages:,} messages", file=sys.stderr, flush=True)
            seconds = asyncio.run(fill(path, corpus, a.messages))
            size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
            print(
                f"**fill**: {a.messages:,} messages through save_messages in batches of {BATCH:,}: "
                f"{seconds:.0f} s ({a.messages / seconds:,.0f} messages/s), {size:,.0f} MB on disk\n",
                flush=True,
            )
        mix = queries(corpus, a.queries, a.seed + 1)
        title = f"Store.search on SQLite, {a.messages:,} messages, limit {PAGE}, one search at a time"
        print(table(title, asyncio.run(run_store(path, corpus, mix))) + "\n", flush=True)
        if a.http:
            title = f"GET /api/search on a standalone server, {a.messages:,} messages, limit {PAGE}, one at a time"
            print(table(title, run_http(root, path, mix)), flush=True)
    finally:
        if a.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
