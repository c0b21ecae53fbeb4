"""pytest fixtures `fake_stooq` and `fake_yahoo`: a fresh fake provider per test, on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.stooq import FakeStooq
from tests.fakes.yahoo import FakeYahoo


@pytest.fixture
async def fake_stooq() -> AsyncIterator[FakeStooq]:
    fake = FakeStooq()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def fake_yahoo() -> AsyncIterator[FakeYahoo]:
    fake = FakeYahoo()
    await fake.start()
    yield fake
    await fake.stop()
