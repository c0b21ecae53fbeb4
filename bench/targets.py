"""The servers bench/run.py measures (the product and the Node reference, one or two processes) and one step
of the generator against a running one."""

from __future__ import annotations

import argparse
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.ladder import Result, Shape, run_ladder
from bench.procs import REPO, Children, NodePeers, Product, log, redis_cmd, register

TARGETS = ("node1", "py1", "node2", "py2")
NAMES = {
    "node1": "Node socket.io x1",
    "py1": "investor-chat standalone",
    "node2": "Node socket.io x2 + redis adapter",
    "py2": "investor-chat 2 nodes + redis + archiver",
    "base1": "investor-chat standalone at --baseline",
    "base2": "investor-chat 2 nodes at --baseline",
}
MIN_CHANNELS = 100  # never fewer than before r500 came: a run of r10 alone keeps the same store as earlier runs


@dataclass
class Bench:
    """What every ladder and step of one run shares."""

    args: argparse.Namespace
    kit: Path
    root: Path
    children: Children
    shapes: list[Shape]
    limits: dict[int, tuple[int, int]]  # per shape (by rooms): the product's send rate and burst per user
    tokens: dict[str, Path] = field(default_factory=dict)  # per target: its generator users' tokens

    @property
    def timing(self) -> dict[str, float]:
        timing: dict[str, float] = (
            {"duration": 3, "warmup": 1, "drain": 2, "quiet": 2}
            if self.args.quick
            else {"duration": 5, "warmup": 2, "drain": 2, "quiet": 3}
        )
        if self.args.duration:
            timing["duration"] = self.args.duration
        return timing


@dataclass
class Up:
    """A target running for one shape: where the generator connects and which PIDs it samples."""

    urls: list[str]
    pids: list[str]
    redis: str | None
    token_file: Path | None
    stop: Callable[[], None]


def next_db(url: str) -> str:
    """The Redis database after `url`'s: the baseline's two nodes run beside ours and must not read the
    records our version writes (an older Message model refuses fields it does not know)."""
    base, _, db = url.rpartition("/")
    return f"{base}/{int(db or 0) + 1}"


def start_target(target: str, bench: Bench, shape: Shape) -> Up:
    """`target` up for `shape`: the product with the shape's send limit, its users registered on first start."""
    a, root, children = bench.args, bench.root, bench.children
    procs = int(target[-1])
    if target.startswith("node"):
        redis = "redis://127.0.0.1:6379" if procs > 1 else None
        peers = NodePeers(children, bench.kit, procs, redis)
        peers.start()
        return Up(peers.urls, peers.pids(), redis, None, peers.stop)
    redis_url = (next_db(a.redis_url) if target.startswith("base") else a.redis_url) if procs > 1 else None
    if redis_url:
        redis_cmd(redis_url, "FLUSHDB")
    code = root / "baseline" if target.startswith("base") else None
    product = Product(
        children,
        root / target,
        nodes=procs,
        redis_url=redis_url,
        rate=bench.limits[shape.rooms][0],
        burst=bench.limits[shape.rooms][1],
        code=code,
    )
    product.start()
    if target not in bench.tokens:
        token_file = root / target / "tokens.txt"
        channels = max([MIN_CHANNELS] + [s.rooms for s in bench.shapes])
        started = time.monotonic()
        register(product.base, a.clients, [f"bench-{k}" for k in range(channels)], token_file)
        log(f"{target}: {a.clients} users and {channels} channels registered in {time.monotonic() - started:.1f}s")
        bench.tokens[target] = token_file
        product.stop()  # a fresh process for the ladder: its first step measures memory per client
        product.start()
    return Up(product.urls, product.pids(), redis_url, bench.tokens[target], product.stop)


def checkout_baseline(ref: str, into: Path) -> None:
    """The repository's files at `ref`, to run with this venv's packages (`git archive`, no work tree)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    log(f"baseline {ref} in {into}")


def run_step(bench: Bench, label: str, shape: Shape, up: Up, jsonl: Path) -> Result:
    """The generator once over `shape`'s rates against a running target."""
    return run_ladder(
        bench.kit,
        label,
        shape,
        clients=bench.args.clients,
        timing=bench.timing,
        urls=up.urls,
        pids=up.pids,
        token_file=up.token_file,
        redis=up.redis,
        jsonl=jsonl,
    )
