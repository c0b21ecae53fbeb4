"""The web client in a busy channel, an old build beside the working tree's, in one run: a burst of 2,000
messages, typing while 5 a second arrive, away and back, on Chromium with its CPU slowed 4x.

    python bench/client.py --baseline dba0434 --rounds 3    # about 2 minutes a round
    python bench/client.py                                  # against the upstream's merge-base, else HEAD

The scenario is bench/busy_channel.py's, the one tests/browser/test_busy_channel.py runs. The baseline's
client is built in a temporary `git worktree` (its node_modules linked to client/'s when package-lock.json
is the same, else `npm ci`), the working tree's into this run's directory (client/dist is left alone), or
taken as it is with --current-dist. Every run has a fresh standalone `investor-chat` of this checkout (SQLite,
memory bus) serving that build, a fresh Chromium, and a stand-in for stooq that knows AAPL.US, so chips draw
a price and messages carry stamps as in the test. The two builds alternate, the first of a round changing
each round, so a noisy stretch of this shared box hits both. Progress goes to stderr; each run's figures
and the summary table (medians, each round's value in brackets) to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Playwright, async_playwright, expect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.busy_channel import BURST, CHROMIUM, CHROMIUM_ARGS, CPU_SLOWDOWN, LIVE, PASSWORD, BusyRun, run_busy_channel
from bench.procs import REPO, Children, Product, log, temp_root

VARIANTS = ("baseline", "current")
STOOQ_ZONE = ZoneInfo("Europe/Warsaw")
STOOQ_HEADER = "Symbol,Date,Time,Open,High,Low,Close,Volume,Name"
AAPL = ("AAPL.US", 93.42)  # the fake stooq's price in the test


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--baseline",
        help="the git ref whose client is the baseline (default: the merge-base with the upstream, else HEAD)",
    )
    ap.add_argument("--rounds", type=int, default=3, help="runs of each build, alternating (default 3)")
    ap.add_argument("--current-dist", help="a built client to use as the current one instead of building it")
    ap.add_argument("--work-dir", help="where the builds, server logs and databases go (default: a temp dir)")
    return ap.parse_args()


def git(*args: str, cwd: Path = REPO, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check)


def default_baseline() -> str:
    upstream = git("merge-base", "HEAD", "@{upstream}", check=False)
    return upstream.stdout.strip() if upstream.returncode == 0 else "HEAD"


def npm(client: Path, *args: str) -> None:
    subprocess.run(["npm", *args], cwd=client, check=True, stdout=sys.stderr)


def build_current(into: Path) -> Path:
    """The working tree's client, built into `into` (vite's --outDir), so client/dist stays as it was."""
    log(f"building the working tree's client into {into}")
    npm(REPO / "client", "run", "build", "--", "--outDir", str(into), "--emptyOutDir")
    return into


def build_baseline(commit: str, tree: Path) -> Path:
    """The client at `commit`, built in a git worktree at `tree`."""
    log(f"building the client at {commit} in a worktree at {tree}")
    git("worktree", "add", "--detach", str(tree), commit)
    client = tree / "client"
    ours = REPO / "client"
    if (client / "package-lock.json").read_bytes() == (ours / "package-lock.json").read_bytes() and (
        ours / "node_modules"
    ).is_dir():
        (client / "node_modules").symlink_to(ours / "node_modules", target_is_directory=True)
    else:
        npm(client, "ci", "--no-audit", "--no-fund")
    npm(client, "run", "build")
    return client / "dist"


def remove_worktree(tree: Path) -> None:
    if git("worktree", "remove", "--force", str(tree), check=False).returncode != 0:
        git("worktree", "prune", check=False)


async def stooq_latest(request: web.Request) -> web.Response:
    symbol = request.query.get("s", "").upper()
    if symbol != AAPL[0]:
        return web.Response(text=f"{STOOQ_HEADER}\n{','.join([symbol, *['N/D'] * 7, symbol])}\n")
    now = datetime.now(STOOQ_ZONE) - timedelta(minutes=1)
    price = AAPL[1]
    return web.Response(
        text=f"{STOOQ_HEADER}\n{symbol},{now:%Y-%m-%d,%H:%M:%S},{price},{price},{price},{price},1000,APPLE\n"
    )


async def stooq_history(request: web.Request) -> web.Response:
    if request.query.get("s", "").upper() != AAPL[0]:
        return web.Response(text="No data")
    today = datetime.now(STOOQ_ZONE).date()
    closes = [(today - timedelta(days=d), AAPL[1] - d * 0.2) for d in range(29, 0, -1)]
    rows = [f"{day},{close:.2f},{close:.2f},{close:.2f},{close:.2f},1000" for day, close in closes]
    return web.Response(text="\n".join(["Date,Open,High,Low,Close,Volume", *rows]) + "\n")


async def start_stooq() -> tuple[web.AppRunner, str]:
    """A stand-in for stooq's two CSVs with one known symbol: the chips' quotes are not what is measured."""
    app = web.Application()
    app.add_routes([web.get("/q/l/", stooq_latest), web.get("/q/d/l/", stooq_history)])
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def sign_up(page: Page, url: str, name: str) -> None:
    """Register through the web client and wait until it is connected, as the browser tests' users do."""
    await page.goto(url)
    await page.get_by_role("tab", name="Register").click()
    await page.get_by_label("Username").fill(name)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_test_id("me")).to_have_text(name, timeout=20_000)
    await expect(page.get_by_test_id("connection-banner")).to_have_attribute("data-state", "connected")


async def one_run(pw: Playwright, product: Product) -> BusyRun | None:
    """The scenario once against `product`'s server and client; None when it failed (said on stderr)."""
    await asyncio.to_thread(product.start)
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="UTC")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_up(page, product.base, "alice")
        run = await run_busy_channel(page, product.base)
        if errors:
            log(f"  page errors: {errors}")
        return run
    except (AssertionError, PlaywrightError) as exc:
        log(f"  the run failed: {exc}")
        return None
    finally:
        await browser.close()
        await asyncio.to_thread(product.stop)


def schedule(rounds: int) -> list[tuple[int, str]]:
    """(round, build) in the order they run: the builds alternate, the first changing each round."""
    return [(n, variant) for n in range(1, rounds + 1) for variant in (VARIANTS if n % 2 else VARIANTS[::-1])]


def server_for(children: Children, workdir: Path, dist: Path, stooq: str) -> Product:
    """A fresh standalone server of this checkout serving the client in `dist`."""
    server = Product(children, workdir, nodes=1, redis_url=None, rate=5000, burst=5000)
    server.env.update(
        {
            "CHAT_CLIENT_DIR": str(dist),
            "CHAT_STOOQ_URL": stooq,
            "CHAT_YAHOO_URL": stooq,
            "CHAT_QUOTE_CACHE_TTL": "3",  # as the browser tests' server
        }
    )
    return server


async def measure(
    children: Children, root: Path, dists: dict[str, Path], names: dict[str, str], rounds: int
) -> dict[str, list[BusyRun]]:
    runs: dict[str, list[BusyRun]] = {variant: [] for variant in VARIANTS}
    runner, stooq = await start_stooq()
    try:
        async with async_playwright() as pw:
            for n, variant in schedule(rounds):
                log(f"round {n}: {names[variant]}")
                server = server_for(children, root / f"round{n}-{variant}", dists[variant], stooq)
                run = await one_run(pw, server)
                print(f"round {n} {variant:<8} {round_line(run)}", flush=True)
                if run is not None:
                    runs[variant].append(run)
    finally:
        await runner.cleanup()
    return runs


METRICS: list[tuple[str, Callable[[BusyRun], float], str]] = [
    ("burst on screen (s)", lambda r: r.shown_s, "{:.2f}"),
    ("burst acked by the server (s)", lambda r: r.sent_s, "{:.2f}"),
    ("burst: long tasks", lambda r: len(r.burst_long_ms), "{:.0f}"),
    ("burst: longest task (ms)", lambda r: max(r.burst_long_ms, default=0), "{:.0f}"),
    ("keystroke-to-paint p50 (ms)", lambda r: r.key_median, "{:.0f}"),
    ("keystroke-to-paint p95 (ms)", lambda r: r.key_ms(0.95), "{:.0f}"),
    ("keystroke-to-paint max (ms)", lambda r: max(r.keys_ms, default=0), "{:.0f}"),
    ("typing: long tasks", lambda r: len(r.steady_long_ms), "{:.0f}"),
    ("typing: longest task (ms)", lambda r: max(r.steady_long_ms, default=0), "{:.0f}"),
    ("elements in the list", lambda r: r.nodes, "{:.0f}"),
    ("back to the busy channel (ms)", lambda r: r.back_ms, "{:.0f}"),
]


def round_line(run: BusyRun | None) -> str:
    if run is None:
        return "failed (see stderr)"
    arrived = run.burst_arrived + run.live_arrived
    return (f"ONLY {arrived} OF {BURST + LIVE} MESSAGES IN THE LIST; " if arrived != BURST + LIVE else "") + (
        f"burst on screen {run.shown_s:.2f} s; keys p50/p95/max {run.key_median:.0f}/{run.key_ms(0.95):.0f}/"
        f"{max(run.keys_ms, default=0):.0f} ms; long tasks {len(run.steady_long_ms)}, longest "
        f"{max(run.steady_long_ms, default=0):.0f} ms; {run.nodes} elements; back {run.back_ms:.0f} ms"
    )


def cell(runs: list[BusyRun], value: Callable[[BusyRun], float], fmt: str) -> str:
    if not runs:
        return "-"
    values = [value(r) for r in runs]
    return f"{fmt.format(statistics.median(values))}  [{' '.join(fmt.format(v) for v in values)}]"


def table(runs: dict[str, list[BusyRun]], names: dict[str, str], rounds: int) -> str:
    head = [f"busy channel: {BURST} burst, then typing at 5 messages/s; CPU /{CPU_SLOWDOWN}; {rounds} rounds"]
    failed = any(len(r) < rounds for r in runs.values())
    head.append("median  [each run]" + ("; runs that failed are left out" if failed else ""))
    rows = [("", *(names[v] for v in VARIANTS))]
    rows += [(label, *(cell(runs[v], value, fmt) for v in VARIANTS)) for label, value, fmt in METRICS]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["   ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([*head, *lines])


def main() -> None:
    a = parse_args()
    ref = a.baseline or default_baseline()
    commit = git("rev-parse", "--verify", f"{ref}^{{commit}}").stdout.strip()
    edited = git("status", "--porcelain", "--", "client", ":(exclude)*.md").stdout.strip()  # what the build reads
    changed = " + uncommitted changes" if edited else ""
    names = {
        "baseline": f"baseline {ref} ({commit[:7]})" if ref != commit[:7] else f"baseline {ref}",
        "current": f"working tree ({git('rev-parse', '--short', 'HEAD').stdout.strip()}{changed})",
    }
    root = temp_root(a.work_dir)
    root.mkdir(parents=True, exist_ok=True)
    tree = root / "baseline-worktree"
    children = Children(root)
    try:
        dists = {
            "baseline": build_baseline(commit, tree),
            "current": Path(a.current_dist).resolve() if a.current_dist else build_current(root / "current-dist"),
        }
        runs = asyncio.run(measure(children, root, dists, names, a.rounds))
    finally:
        children.stop_all()
        remove_worktree(tree)
    print()
    print(table(runs, names, a.rounds))
    log(f"server logs and databases in {root}")


if __name__ == "__main__":
    main()
