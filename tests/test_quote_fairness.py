"""GET /api/quotes shares the node's upstream budget: each code not in the cache is charged to the
asker's own budget, so one account hammering new codes cannot leave everyone else `busy`."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from tests.apps import ChatClient
from tests.fakes.stooq import FakeStooq


async def test_one_account_asking_new_codes_leaves_quotes_for_the_others(
    make_server: Any, fake_stooq: FakeStooq
) -> None:
    server: TestServer = await make_server(stooq_url=fake_stooq.url, quote_budget=12, quote_user_budget=5)
    url = str(server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        mallory = await ChatClient(url, http).register("mallory")
        alice = await ChatClient(url, http).register("alice")
        errors: list[tuple[str, str]] = []
        for batch in range(3):  # 30 codes nobody asked for before, ten a call
            codes = ",".join(f"zz{batch}{i}.us" for i in range(10))
            status, body = await mallory.request("GET", f"/api/quotes?symbols={codes}")
            assert status == 200
            errors += [(e["symbol"], e["code"]) for e in body["errors"]]
        codes_seen = [code for _, code in errors]
        assert codes_seen.count("unknown_symbol") == 5 and codes_seen.count("rate_limited") == 25
        assert "busy" not in codes_seen
        upstream = len(fake_stooq.requests)

        status, body = await alice.request("GET", "/api/quotes?symbols=AAPL,vod.uk,^spx")
        assert status == 200 and body["errors"] == []
        assert [q["symbol"] for q in body["quotes"]] == ["AAPL.US", "VOD.UK", "^SPX"]
        assert len(fake_stooq.requests) > upstream

        # what is cached costs mallory nothing more: the codes already answered are answered again
        known = next(symbol for symbol, code in errors if code == "unknown_symbol")
        status, body = await mallory.request("GET", f"/api/quotes?symbols=AAPL,{known}")
        assert [q["symbol"] for q in body["quotes"]] == ["AAPL.US"]
        assert [(e["symbol"], e["code"]) for e in body["errors"]] == [(known, "unknown_symbol")]
