"""Browser fixtures: the real `investor-chat` process on a free port, Chromium, and signed-up users."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from bench.busy_channel import CHROMIUM, CHROMIUM_ARGS
from scripts.ports import free_port
from tests.fakes.stooq import FakeStooq

ROOT = Path(__file__).resolve().parents[2]
CLIENT_DIST = ROOT / "client" / "dist"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "correct horse battery"
SECRET = "browser-test-secret-key-0123456789abcdef"
STARTUP_SECONDS = 20.0

expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in this folder drives a real browser; each test gets a longer timeout."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.timeout(90))


@dataclass
class ChatServer:
    url: str
    log: Path


async def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
    async with aiohttp.ClientSession() as http:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"investor-chat exited with {proc.returncode}:\n{log.read_text()}")
            try:
                async with http.get(f"{url}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"investor-chat did not answer /healthz in time:\n{log.read_text()}")
            await asyncio.sleep(0.1)


@pytest.fixture
async def chat_server(tmp_path: Path, fake_stooq: FakeStooq) -> AsyncIterator[ChatServer]:
    """`investor-chat` standalone, as users run it, with its quotes from the local fake stooq."""
    if not (CLIENT_DIST / "index.html").is_file():
        pytest.fail("client/dist is missing: build it with `make client` (cd client && npm ci && npm run build)")
    port = free_port()
    env = {
        **os.environ,
        "CHAT_HOST": "127.0.0.1",
        "CHAT_PORT": str(port),
        "CHAT_STORAGE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "CHAT_BUS_URL": "memory://",
        "CHAT_SECRET_KEY": SECRET,
        "CHAT_BCRYPT_ROUNDS": "4",
        "CHAT_QUOTE_PROVIDERS": "stooq",
        "CHAT_STOOQ_URL": fake_stooq.url,
        "CHAT_YAHOO_URL": fake_stooq.url,
        "CHAT_CLIENT_DIR": str(CLIENT_DIST),
        "CHAT_LOG_LEVEL": "info",
        # The history test posts a few dozen messages at once through a script, the busy-channel
        # test a burst of 2,000 (docs/protocol.md's limit is per user; the script is one user).
        # Quotes go stale in 3 s, not 15: the price-stamp test watches a price move past its stamp.
        "CHAT_QUOTE_CACHE_TTL": "3",
        "CHAT_SEND_RATE": "5000",
        "CHAT_SEND_BURST": "5000",
    }
    entry = Path(sys.executable).with_name("investor-chat")
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(entry)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url, proc, log)
        yield ChatServer(url=url, log=log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, 15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"investor-chat ignored SIGTERM:\n{log.read_text()}")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: apt-get install -y chromium (.ci/run does it)")
    async with async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@dataclass
class User:
    name: str
    context: BrowserContext
    page: Page
    errors: list[str]

    async def send(self, text: str) -> None:
        box = self.page.get_by_role("textbox", name="Message #")
        await expect(box).to_be_enabled()
        await box.fill(text)
        await box.press("Enter")
        await expect(box).to_have_value("")

    def messages(self):  # type: ignore[no-untyped-def]
        return self.page.get_by_test_id("message")

    def message(self, text: str):  # type: ignore[no-untyped-def]
        return self.page.get_by_test_id("message-text").filter(has_text=text)

    async def open_channel(self, name: str) -> None:
        await self.page.get_by_role("navigation", name="Channels").locator(f"[data-channel='{name}']").click()
        await expect(self.page.get_by_role("heading", name=name)).to_be_visible()


UserFactory = Callable[..., Awaitable[User]]


@pytest.fixture
async def signed_up(browser: Browser, chat_server: ChatServer) -> AsyncIterator[UserFactory]:
    """Make a user who registered through the web client, each in a separate browser context."""
    contexts: list[BrowserContext] = []

    async def make(name: str, *, width: int = 1280, height: int = 800, touch: bool = False) -> User:
        # touch: a phone, with a touch screen and no hover (CSS `hover: none`)
        context = await browser.new_context(
            viewport={"width": width, "height": height},
            locale="en-US",
            timezone_id="UTC",
            has_touch=touch,
            is_mobile=touch,
        )
        contexts.append(context)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(chat_server.url)
        await page.get_by_role("tab", name="Register").click()
        await page.get_by_label("Username").fill(name)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Create account").click()
        await expect(page.get_by_test_id("me")).to_have_text(name)
        await expect(page.get_by_test_id("connection-banner")).to_have_attribute("data-state", "connected")
        return User(name=name, context=context, page=page, errors=errors)

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Awaitable[None]]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    async def take(page: Page, name: str) -> None:
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    return take
