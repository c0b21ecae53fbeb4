"""The busy-channel scenario in the web client: a burst of 2,000 messages, typing while 5 a second arrive on a
CPU slowed 4x, then away to a quiet channel and back.

tests/browser/test_busy_channel.py checks what a user notices in it; bench/client.py times it, an old client
beside the new one. Both run this one copy, so the test's [client-perf] lines and the bench's table are the
same measurements.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from dataclasses import dataclass, field

import aiohttp
import socketio
from playwright.async_api import Locator, Page, expect

# Debian's Chromium as the browser tests and the client bench start it: headless in a container, nothing
# fetched in the background that would steal the CPU being measured
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BURST = 2000
LIVE = 50  # 5 a second while the user types
CPU_SLOWDOWN = 4
TYPED = "the quick brown fox jumps over the lazy dog " * 2
PASSWORD = "correct horse battery"
# Generous: a slow box takes seconds, a broken client never gets there.
BURST_TIMEOUT_MS = 60_000
STEP_TIMEOUT_MS = 30_000

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
# How many items (messages and channel events) the client holds: the windowed list draws only some rows,
# each saying the list's full length.
LIST_SIZE = "el => Number(el.querySelector('li[aria-setsize]')?.getAttribute('aria-setsize') ?? 0)"


@dataclass
class BusyRun:
    """What one pass through the scenario saw."""

    sent_s: float = 0.0  # the server acked the whole burst
    shown_s: float = 0.0  # the burst's newest message on screen, from the first send
    burst_long_ms: list[float] = field(default_factory=list)
    burst_arrived: int = 0  # items the list gained with the burst
    keys_ms: list[float] = field(default_factory=list)  # keystroke-to-paint, sorted
    box_value: str = ""  # the message box after typing TYPED
    live_arrived: int = 0  # items the list gained while the user typed
    steady_long_ms: list[float] = field(default_factory=list)
    nodes: int = 0  # elements in the message list
    back_ms: float = 0.0  # clicking the busy channel again to its newest message on screen

    def key_ms(self, share: float) -> float:
        """The keystroke-to-paint time `share` of the keys were within (nearest rank)."""
        if not self.keys_ms:
            return 0.0
        return self.keys_ms[max(int(len(self.keys_ms) * share) - 1, 0)]

    @property
    def key_median(self) -> float:
        return statistics.median(self.keys_ms) if self.keys_ms else 0.0

    def report(self) -> list[str]:
        """The figures as the [client-perf] lines a human reads in the test's output."""
        keys = self.keys_ms
        return [
            f"[client-perf] burst of {BURST}: server took {self.sent_s:.2f} s, on screen after {self.shown_s:.2f} s; "
            f"{len(self.burst_long_ms)} long tasks, longest {max(self.burst_long_ms, default=0):.0f} ms",
            f"[client-perf] {BURST} loaded, 5/s arriving, CPU /{CPU_SLOWDOWN}: keystroke-to-paint "
            f"p50 {self.key_median:.0f} ms, p95 {self.key_ms(0.95):.0f} ms, "
            f"max {max(keys, default=0):.0f} ms over {len(keys)} keys; {len(self.steady_long_ms)} long tasks, "
            f"longest {max(self.steady_long_ms, default=0):.0f} ms; {self.nodes} elements in the list",
            f"[client-perf] back to the busy channel: {self.back_ms:.0f} ms to its newest message",
        ]


def message(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.get_by_test_id("message-text").filter(has_text=text)


async def script_user(url: str, name: str) -> socketio.AsyncSimpleClient:
    """Someone posting from a script, registered over REST and in #general."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/register", json={"username": name, "password": PASSWORD}) as resp:
            assert resp.status == 201, await resp.text()
            token = (await resp.json())["token"]
    sio = socketio.AsyncSimpleClient()
    await sio.connect(url, auth={"token": token}, transports=["websocket"])
    joined = await sio.call("join", {"channel": "general"})
    assert joined["ok"], joined
    return sio


async def _post(sio: socketio.AsyncSimpleClient, text: str, n: int) -> None:
    ack = await sio.call("send", {"channel": "general", "text": text, "client_id": f"busy-{n}"})
    assert ack["ok"], ack


async def _long_tasks(page: Page) -> list[float]:
    return list(await page.evaluate("() => window.__long.splice(0)"))


async def _list_size(page: Page) -> int:
    return int(await page.get_by_test_id("messages").evaluate(LIST_SIZE))


async def run_busy_channel(page: Page, url: str, sender: str = "carol") -> BusyRun:
    """The scenario on `page`, signed in and showing #general, with `sender` posting from a script.

    Raises (an expectation's AssertionError) when something never appears within the generous timeouts."""
    run = BusyRun()
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    await page.evaluate(PROBES)
    carol = await script_user(url, sender)
    try:
        await _burst(page, carol, run)
        await _type_while_busy(page, carol, run)
        await _away_and_back(page, run)
    finally:
        await carol.disconnect()
    return run


async def _burst(page: Page, carol: socketio.AsyncSimpleClient, run: BusyRun) -> None:
    """2,000 messages, sent 100 at a time without waiting between them."""
    before = await _list_size(page)
    started = time.monotonic()
    for first in range(0, BURST, 100):
        await asyncio.gather(*(_post(carol, f"burst {n} $AAPL up", n) for n in range(first + 1, first + 101)))
    run.sent_s = time.monotonic() - started
    await expect(message(page, re.compile(rf"^burst {BURST}\b"))).to_be_visible(timeout=BURST_TIMEOUT_MS)
    run.shown_s = time.monotonic() - started
    run.burst_long_ms = await _long_tasks(page)
    run.burst_arrived = await _list_size(page) - before


async def _type_while_busy(page: Page, carol: socketio.AsyncSimpleClient, run: BusyRun) -> None:
    """2,000 loaded, 5 a second arriving, someone typing."""
    box = page.get_by_role("textbox", name="Message #")
    await box.focus()
    before = await _list_size(page)
    await page.evaluate("() => { window.__keys = []; }")

    async def trickle() -> None:
        for n in range(LIVE):
            await _post(carol, f"live {n} $AAPL $MSFT https://example.com/x", BURST + 1 + n)
            await asyncio.sleep(0.2)

    feed = asyncio.create_task(trickle())
    await box.press_sequentially(TYPED, delay=80)
    await feed
    await expect(message(page, re.compile(rf"^live {LIVE - 1}\b"))).to_be_visible(timeout=STEP_TIMEOUT_MS)
    run.live_arrived = await _list_size(page) - before
    run.box_value = await box.input_value()
    run.keys_ms = sorted(await page.evaluate("() => window.__keys"))
    run.steady_long_ms = await _long_tasks(page)
    run.nodes = await page.get_by_test_id("messages").evaluate("el => el.querySelectorAll('*').length")


async def _away_and_back(page: Page, run: BusyRun) -> None:
    """To a new, quiet channel and back to the busy one."""
    await page.get_by_role("button", name="New channel").click()
    await page.get_by_label("New channel name").fill("quiet")
    await page.get_by_label("New channel name").press("Enter")
    await expect(page.get_by_role("heading", name="quiet")).to_be_visible(timeout=STEP_TIMEOUT_MS)
    switched = time.monotonic()
    await page.get_by_role("navigation", name="Channels").locator("[data-channel='general']").click()
    await expect(message(page, re.compile(rf"^live {LIVE - 1}\b"))).to_be_visible(timeout=STEP_TIMEOUT_MS)
    run.back_ms = (time.monotonic() - switched) * 1000
