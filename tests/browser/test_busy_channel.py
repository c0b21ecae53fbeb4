"""The web client in a busy channel: 2,000 messages loaded, more arriving, on a slow CPU."""

from __future__ import annotations

import asyncio
import re
import statistics
import time

import aiohttp
import pytest
import socketio
from playwright.async_api import Page, expect

from tests.browser.conftest import PASSWORD, ChatServer, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.serial]

BURST = 2000
# On a CPU slowed 4x through the DevTools protocol. The budgets were a 5 s burst and a 50 ms p95,
# met on the machine of its day (34-43 ms). On 2026-12-04 this kind of machine measured the client from
# before #21 (63a151c) at p95 56 and 79 ms, burst 6.2 and 4.7 s, and the current one at 51-102 ms, 3.0-5.7 s:
# the box, not the client, moved. The gate stays where a real slowdown (twice the figures) fails
# it; a side-by-side measurement of old and new clients belongs in bench/, and is still to be written.
CPU_SLOWDOWN = 4
BURST_SECONDS = 8.0
KEY_TO_PAINT_P95_MS = 120.0
LONGEST_TASK_MS = 200.0

# Keystroke-to-paint: from the key event's own timestamp to the task after the next frame,
# which runs once that frame is painted. Long tasks come from the browser's own observer.
PROBES = """
() => {
  window.__keys = [];
  window.__long = [];
  document.addEventListener('keydown', (e) => {
    const t0 = e.timeStamp;
    requestAnimationFrame(() => setTimeout(() => window.__keys.push(performance.now() - t0), 0));
  }, true);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__long.push(e.duration);
  }).observe({ type: 'longtask' });
}
"""


async def _script_user(server: ChatServer, name: str) -> socketio.AsyncSimpleClient:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/register", json={"username": name, "password": PASSWORD}) as resp:
            assert resp.status == 201, await resp.text()
            token = (await resp.json())["token"]
    sio = socketio.AsyncSimpleClient()
    await sio.connect(server.url, auth={"token": token}, transports=["websocket"])
    joined = await sio.call("join", {"channel": "general"})
    assert joined["ok"], joined
    return sio


async def _post(sio: socketio.AsyncSimpleClient, text: str, n: int) -> None:
    ack = await sio.call("send", {"channel": "general", "text": text, "client_id": f"busy-{n}"})
    assert ack["ok"], ack


async def _long_tasks(page: Page) -> list[float]:
    return list(await page.evaluate("() => window.__long.splice(0)"))


async def test_busy_channel_stays_fast_on_a_slow_cpu(signed_up: UserFactory, chat_server: ChatServer) -> None:
    alice = await signed_up("alice")
    page = alice.page
    cdp = await alice.context.new_cdp_session(page)
    await cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    await page.evaluate(PROBES)
    carol = await _script_user(chat_server, "carol")
    try:
        # A burst of 2,000, sent 100 at a time without waiting between them.
        started = time.monotonic()
        for first in range(0, BURST, 100):
            await asyncio.gather(*(_post(carol, f"burst {n} $AAPL up", n) for n in range(first + 1, first + 101)))
        sent = time.monotonic() - started
        await expect(alice.message(re.compile(rf"^burst {BURST}\b"))).to_be_visible(timeout=60_000)
        shown = time.monotonic() - started
        burst_long = await _long_tasks(page)
        print(
            f"[client-perf] burst of {BURST}: server took {sent:.2f} s, on screen after {shown:.2f} s; "
            f"{len(burst_long)} long tasks, longest {max(burst_long, default=0):.0f} ms"
        )

        # 2,000 loaded, 5 a second arriving, someone typing.
        box = page.get_by_role("textbox", name="Message #")
        await box.focus()
        await page.evaluate("() => { window.__keys = []; }")

        async def trickle() -> None:
            for n in range(50):
                await _post(carol, f"live {n} $AAPL $MSFT https://example.com/x", BURST + 1 + n)
                await asyncio.sleep(0.2)

        feed = asyncio.create_task(trickle())
        await box.press_sequentially("the quick brown fox jumps over the lazy dog " * 2, delay=80)
        await feed
        await expect(alice.message(re.compile(r"^live 49\b"))).to_be_visible()
        keys = sorted(await page.evaluate("() => window.__keys"))
        steady_long = await _long_tasks(page)
        p95 = keys[int(len(keys) * 0.95) - 1]
        nodes = await page.get_by_test_id("messages").evaluate("el => el.querySelectorAll('*').length")
        print(
            f"[client-perf] {BURST} loaded, 5/s arriving, CPU /{CPU_SLOWDOWN}: keystroke-to-paint "
            f"p50 {statistics.median(keys):.0f} ms, p95 {p95:.0f} ms, max {keys[-1]:.0f} ms over {len(keys)} keys; "
            f"{len(steady_long)} long tasks, longest {max(steady_long, default=0):.0f} ms; {nodes} elements in the list"
        )

        # Away to a quiet channel and back to the busy one.
        await page.get_by_role("button", name="New channel").click()
        await page.get_by_label("New channel name").fill("quiet")
        await page.get_by_label("New channel name").press("Enter")
        await expect(page.get_by_role("heading", name="quiet")).to_be_visible()
        switched = time.monotonic()
        await page.get_by_role("navigation", name="Channels").locator("[data-channel='general']").click()
        await expect(alice.message(re.compile(r"^live 49\b"))).to_be_visible()
        back = time.monotonic() - switched
        print(f"[client-perf] back to the busy channel: {back * 1000:.0f} ms to its newest message")
    finally:
        await carol.disconnect()

    assert shown <= BURST_SECONDS, f"the burst took {shown:.1f} s to appear"
    assert len(keys) >= 80
    assert p95 <= KEY_TO_PAINT_P95_MS, f"typing lags: p95 {p95:.0f} ms"
    assert max(steady_long, default=0) <= LONGEST_TASK_MS, f"a long task of {max(steady_long):.0f} ms"
    # Only what is on screen is in the page, not all 2,050 messages.
    assert nodes < 1500
    assert alice.errors == []
