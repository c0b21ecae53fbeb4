"""What durability costs beside the nodes on the two-node shape: Redis's CPU per post and the archiver's and
the notifier's CPU per message (#25).

    python bench/durability.py                                  # rooms of 2 and of 10, 3 rounds
    python bench/durability.py --baseline 1945b5d --rounds 3    # that commit and the working tree, alternated
    python bench/durability.py --shapes r2 --rate 6000 --seconds 6 --client-ids

Each run starts a private redis-server (AOF on, every second, as compose.yaml's), an archiver process and a
notifier process (the real Archiver.run and Notifier.run, each on a SQLite file of its own, so their CPU
splits by process) and a poster: two RedisBus instances, the two nodes, each posting its senders' messages
through post_soon at `--rate` posts/s between them, `--batch` posts every tick of each node (as a node
gathers the sends of POST_SPACING under load), each with its sender's send limit (and, with `--client-ids`,
a client_id's dedup key) and both subscribed to the live feed. Rooms of 2: 500 rooms of one sender each;
rooms of 10: 100. After the posts it waits until both consumer groups have read and acknowledged every
record, then reads Redis's CPU (INFO cpu) and its command statistics, and the two processes' CPU (/proc),
all as differences over the run, per post. With --baseline REF the same runs use REF's code (`git archive`
into a temp dir, run with this venv and PYTHONPATH there), alternated with the working tree's round by round.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parent.parent
SHAPES = {"r2": 500, "r10": 100}  # rooms (one sender each): 1,000 clients in rooms of 2 or of 10
TEXT = "bench ts=1234567890123 " + "x" * 40  # the shared kit's message, about as long
TICK_CLK = os.sysconf("SC_CLK_TCK")


# --- the children: run with the code under test first on sys.path (PYTHONPATH) ---


async def poster(url: str, rooms: int, rate: float, batch: int, seconds: float, client_ids: bool) -> None:
    from core.bus import Limit
    from core.bus.redis import RedisBus
    from core.models import Message, new_id, now_iso

    buses = [RedisBus(url), RedisBus(url)]
    for room in range(rooms):
        await buses[0].seed_seq(f"P{room}", 0)
    for bus in buses:
        await bus.subscribe_live(lambda _channel, _data: None)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    interval = 2 * batch / rate  # each node posts `batch` every interval

    async def node(index: int) -> tuple[int, int]:
        bus, senders = buses[index], list(range(index, rooms, 2))
        futures: list[asyncio.Future[Any]] = []
        loop = asyncio.get_running_loop()
        start = loop.time()
        ticks = int(seconds / interval)
        for tick in range(ticks):
            for k in range(batch):
                sender = senders[(tick * batch + k) % len(senders)]
                user = f"user{sender}"
                message = Message(id=new_id(), channel=f"P{sender}", user=user, text=TEXT, ts=now_iso())
                dedup = f"{user}\x00{new_id()}" if client_ids else None
                futures.append(bus.post_soon(message, dedup, Limit(f"send:{user}", 100_000, 200_000)))
            await asyncio.sleep(max(0.0, start + (tick + 1) * interval - loop.time()))
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        return len(futures), sum(isinstance(o, BaseException) for o in outcomes)

    done = await asyncio.gather(node(0), node(1))
    print(f"posted {sum(d[0] for d in done)} failed {sum(d[1] for d in done)}", flush=True)
    for bus in buses:
        await bus.close()


async def worker(role: str, url: str, storage: str) -> None:
    from archiver.notifier import Notifier
    from archiver.worker import Archiver
    from core.bus.redis import RedisBus
    from core.store import open_store

    bus, store = RedisBus(url), await open_store(storage)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    runner = Archiver(bus, store) if role == "archiver" else Notifier(bus, store)
    await runner.process_batch(block_ms=0)  # makes its group: nothing is missed from here on
    print("ready", flush=True)
    await runner.run(stop)
    await store.close()
    await bus.close()


# --- the orchestrator ---


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK_CLK


def redis_stats(client: redis.Redis) -> dict[str, float]:
    cpu = client.info("cpu")
    stats: dict[str, float] = {"cpu": float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"])}
    for name, values in client.info("commandstats").items():
        command = name.removeprefix("cmdstat_")
        stats[f"{command}.calls"] = float(values["calls"])
        stats[f"{command}.usec"] = float(values["usec"])
    return stats


def spawn(code: Path, args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(code), "CHAT_LOG_LEVEL": "warning"}
    child = subprocess.Popen(
        [sys.executable, __file__, *args], env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != "ready":
        raise SystemExit(f"{args[1]} did not start: {line!r}")
    return child


def drained(client: redis.Redis) -> bool:
    groups = client.xinfo_groups("chat:archive")
    return len(groups) == 2 and all(g["pending"] == 0 and (g["lag"] or 0) == 0 for g in groups)


def one_run(code: Path, shape: str, a: argparse.Namespace, root: Path) -> dict[str, float]:
    """One run of the code at `code`: its figures per post."""
    work = Path(tempfile.mkdtemp(dir=root))
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--dir", str(work), "--appendonly", "yes", "--appendfsync",
         "everysec", "--save", "", "--logfile", str(work / "redis.log")],
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis(port=port, decode_responses=True)
    children: list[subprocess.Popen[str]] = []
    try:
        for _ in range(50):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        for role in ("archiver", "notifier"):
            children.append(spawn(code, ["--role", role, url, f"sqlite:///{work}/{role}.sqlite3"]))
        workers = list(children)
        args = [str(SHAPES[shape]), str(a.rate), str(a.batch), str(a.seconds), "1" if a.client_ids else "0"]
        post = spawn(code, ["--role", "poster", url, *args])
        children.append(post)
        before = redis_stats(client), [cpu_seconds(w.pid) for w in workers]
        assert post.stdin is not None and post.stdout is not None
        post.stdin.write("go\n")
        post.stdin.flush()
        summary = post.stdout.readline().split()
        post.wait()
        posted, failed = int(summary[1]), int(summary[3])
        deadline = time.monotonic() + 120
        while not drained(client):
            if time.monotonic() > deadline:
                raise SystemExit("the archiver or the notifier did not catch up within 2 minutes")
            time.sleep(0.2)
        after = redis_stats(client), [cpu_seconds(w.pid) for w in workers]
        if failed:
            raise SystemExit(f"{failed} of {posted} posts failed")
        out = {"posts": posted, "redis_us": (after[0]["cpu"] - before[0]["cpu"]) * 1e6 / posted}
        for command in sorted({k.partition(".")[0] for k in after[0]} - {"cpu"}):
            calls = after[0].get(f"{command}.calls", 0) - before[0].get(f"{command}.calls", 0)
            out[f"{command}/post"] = calls / posted
            usec = after[0].get(f"{command}.usec", 0) - before[0].get(f"{command}.usec", 0)
            out[f"{command} µs"] = usec / posted
        out["evalsha_us"] = (after[0].get("evalsha.usec", 0) - before[0].get("evalsha.usec", 0)) / posted
        out["archiver_us"] = (after[1][0] - before[1][0]) * 1e6 / posted
        out["notifier_us"] = (after[1][1] - before[1][1]) * 1e6 / posted
        return out
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        client.close()
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


def line(label: str, shape: str, r: dict[str, float], detail: bool = False) -> str:
    calls = " ".join(f"{k.split('/')[0]} {r[k]:.2f}" for k in r if k.endswith("/post") and r[k] >= 0.005)
    return (
        f"{label:>9} {shape:>3}: {r['posts']:,.0f} posts  Redis {r['redis_us']:.1f} µs/post (EVALSHA "
        f"{r['evalsha_us']:.1f})  archiver {r['archiver_us']:.1f}  notifier {r['notifier_us']:.1f} µs/message"
        f"  | calls/post: {calls}"
        + (
            "\n      µs/post: "
            + " ".join(f"{k.split()[0]} {r[k]:.2f}" for k in r if k.endswith(" µs") and r[k] >= 0.05)
            if detail
            else ""
        )
    )


def run(a: argparse.Namespace, root: Path) -> None:
    variants: list[tuple[str, Path]] = [("current", REPO)]
    if a.baseline:
        tree = root / "baseline"
        tree.mkdir()
        archive = subprocess.run(["git", "archive", a.baseline], cwd=REPO, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        variants.insert(0, (a.baseline, tree))
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for n in range(a.rounds):
        order = variants if n % 2 == 0 else variants[::-1]  # neither always runs first
        for shape in a.shapes.split(","):
            for label, code in order:
                r = one_run(code, shape, a, root)
                results.setdefault((label, shape), []).append(r)
                print(f"round {n + 1} " + line(label, shape, r, a.detail), flush=True)
    print(f"\nmedians of {a.rounds} rounds ({a.rate:,.0f} posts/s, {a.batch} a tick a node, {a.seconds:g} s):")
    for (label, shape), runs in results.items():
        print(line(label, shape, {k: statistics.median(r[k] for r in runs) for k in runs[0]}, a.detail))


def main() -> None:
    if sys.argv[1:2] == ["--role"]:
        role, url, *rest = sys.argv[2:]
        if role == "poster":
            rooms, rate, batch, seconds, ids = rest
            asyncio.run(poster(url, int(rooms), float(rate), int(batch), float(seconds), ids == "1"))
        else:
            asyncio.run(worker(role, url, rest[0]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", default="r2,r10", help="r2 (500 rooms of 2), r10 (100 rooms of 10), or both")
    ap.add_argument("--rate", type=float, default=4000, help="posts/s from the two nodes together")
    ap.add_argument("--batch", type=int, default=10, help="posts a node sends to Redis together")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--client-ids", action="store_true", help="every post with a client_id (a dedup key)")
    ap.add_argument("--detail", action="store_true", help="also each command's µs per post (INFO commandstats)")
    ap.add_argument("--baseline", help="a git ref whose code runs too, alternated with the working tree")
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="investor-chat-durability-"))
    try:
        run(a, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
