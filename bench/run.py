"""Side-by-side benchmark: investor-chat (standalone, and two nodes through Redis) against the Node
Socket.IO reference, same load generator and shapes, in one run; plus history and archiver rates.

    python bench/run.py            # the full run (15-30 min: slower boxes fail sooner)
    python bench/run.py --quick    # a short ladder, smaller history (~5 min)

After the ladders, the channel-changes step (--changes-rates, off with --no-changes) runs the product's
targets at one rate per shape twice in a row: messages only, then with bench/changes.py beside the
generator making a tenth of all events reactions and edits (changes/s = sends/s / 9).

The ladders of a shape are climbed together (each rate on every target before the next rate), so a
noisy stretch of a shared machine hits all targets alike; a failing step is run again (up to --tries
runs) and passes if most of its runs pass, so one hiccup of the box does not end a ladder. The shared kit
(../shared/bench, read-only) is copied and built in --build-dir; nothing of it is kept in the repository.
Progress goes to stderr, the summary table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.extras import archiver_bench, history_bench, start_secantus
from bench.ladder import P99_MS, Result, Shape, run_ladder
from bench.procs import (
    REPO,
    Children,
    NodePeers,
    Product,
    build_kit,
    log,
    redis_cmd,
    register,
    temp_root,
    user_token,
)

# per user: raised above any sender's share of the top step (24000 sends/s from 10 senders), still enforced;
# changes spend from it too: the changes companion's users make sends/s / 9 / CHANGES_CLIENTS each
SEND_RATE, SEND_BURST = 5000, 10000
FULL = {  # up to where Node also fails on this 2-core machine, so the ratios are not capped by the ladder
    "r10": [*range(100, 1001, 100), *range(1200, 2401, 200), 2700, 3000],
    "r100": [*range(1000, 16001, 1000), 18000, 20000, 22000, 24000],
}
QUICK = {"r10": [100, 200, 400], "r100": [500, 1000, 2000]}
# the channel-changes step: sends/s per shape, run plain and with a tenth of the events changes
CHANGES_FULL, CHANGES_QUICK = {"r10": [1000], "r100": [4000]}, {"r10": [200], "r100": [1000]}
CHANGES_CLIENTS = 10  # the companion's users: cheap beside the generator, one or more rooms each
TARGETS = ("node1", "py1", "node2", "py2")
NAMES = {
    "node1": "Node socket.io x1",
    "py1": "investor-chat standalone",
    "node2": "Node socket.io x2 + redis adapter",
    "py2": "investor-chat 2 nodes + redis + archiver",
    "base1": "investor-chat standalone at --baseline",
    "base2": "investor-chat 2 nodes at --baseline",
}


def rates_text(rates: dict[str, list[int]]) -> str:
    return ",".join(f"{shape}:{rate}" for shape, list_ in rates.items() for rate in list_)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short ladders, 100k-message history, small archive run")
    ap.add_argument(
        "--kit",
        default=os.environ.get("BENCH_KIT", str(REPO.parent / "shared" / "bench")),
        help="the shared benchmark kit (read-only; env BENCH_KIT)",
    )
    ap.add_argument(
        "--build-dir",
        default=os.environ.get("BENCH_BUILD_DIR", "/tmp/investor-chat-bench-build"),
        help="where the kit is copied and built (reused while unchanged)",
    )
    ap.add_argument("--workdir", help="temp dir for stores and logs (default: a new one)")
    ap.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
        help="a Redis db this benchmark may flush (and the next one, for --baseline's two nodes)",
    )
    ap.add_argument("--targets", default=",".join(TARGETS), help=f"subset of {','.join(TARGETS)}")
    ap.add_argument(
        "--baseline",
        help="a git ref of this repository to run beside the working tree (targets base1, base2 added): a "
        "change's before and after in one run",
    )
    ap.add_argument("--shapes", default="r10,r100", help="r10 (rooms of 100) and/or r100 (rooms of 10)")
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--senders", type=int, default=10)
    ap.add_argument("--rates-r10", help="ladder of sends/s for rooms of 100")
    ap.add_argument("--rates-r100", help="ladder of sends/s for rooms of 10")
    ap.add_argument("--no-history", action="store_true")
    ap.add_argument("--no-archiver", action="store_true")
    ap.add_argument("--duration", type=float, help="seconds measured per step (e.g. long steps to profile under)")
    ap.add_argument("--keep-going", action="store_true", help="run every rate even after a failed step (A/B runs)")
    ap.add_argument(
        "--tries",
        type=int,
        default=3,
        help="runs of a failing step at most; it passes if most of them pass (a shared box's hiccup fails a step)",
    )
    ap.add_argument(
        "--changes-rates",
        help="the channel-changes step's sends/s per shape (default: "
        f"{rates_text(CHANGES_FULL)}; with --quick {rates_text(CHANGES_QUICK)}); targets py1 and py2 only",
    )
    ap.add_argument("--no-changes", action="store_true", help="skip the channel-changes step")
    ap.add_argument("--json", help="write every result here as JSON")
    return ap.parse_args()


def shapes(a: argparse.Namespace) -> list[Shape]:
    ladders = QUICK if a.quick else FULL
    out = []
    for name in a.shapes.split(","):
        rooms = int(name.removeprefix("r"))
        given = getattr(a, f"rates_{name}", None)
        rates = [int(x) for x in given.split(",")] if given else ladders[name]
        out.append(Shape(f"rooms of {a.clients // rooms} (-r {rooms})", rooms, a.senders, rates))
    return out


@dataclass
class Up:
    """A target running for one shape: where the generator connects and which PIDs it samples."""

    urls: list[str]
    pids: list[str]
    redis: str | None
    token_file: Path | None
    stop: Callable[[], None]


def _next_db(url: str) -> str:
    """The Redis database after `url`'s: the baseline's two nodes run beside ours and must not read the
    records our version writes (an older Message model refuses fields it does not know)."""
    base, _, db = url.rpartition("/")
    return f"{base}/{int(db or 0) + 1}"


def start_target(
    target: str, a: argparse.Namespace, kit: Path, root: Path, children: Children, tokens: dict[str, Path]
) -> Up:
    procs = int(target[-1])
    if target.startswith("node"):
        redis = "redis://127.0.0.1:6379" if procs > 1 else None
        peers = NodePeers(children, kit, procs, redis)
        peers.start()
        return Up(peers.urls, peers.pids(), redis, None, peers.stop)
    redis_url = (_next_db(a.redis_url) if target.startswith("base") else a.redis_url) if procs > 1 else None
    if redis_url:
        redis_cmd(redis_url, "FLUSHDB")
    code = root / "baseline" if target.startswith("base") else None
    product = Product(
        children, root / target, nodes=procs, redis_url=redis_url, rate=SEND_RATE, burst=SEND_BURST, code=code
    )
    product.start()
    if target not in tokens:
        token_file = root / target / "tokens.txt"
        channels = max([100] + [s.rooms for s in shapes(a)])
        register(product.base, a.clients, [f"bench-{k}" for k in range(channels)], token_file)
        tokens[target] = token_file
        product.stop()  # a fresh process for the ladder: its first step measures memory per client
        product.start()
    return Up(product.urls, product.pids(), redis_url, tokens[target], product.stop)


def checkout_baseline(ref: str, into: Path) -> None:
    """The repository's files at `ref`, to run with this venv's packages (`git archive`, no work tree)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    log(f"baseline {ref} in {into}")


def settled(runs: list[dict[str, Any]], tries: int) -> bool:
    """Whether a step's runs so far decide it: a first pass does, else a majority of `tries` either way."""
    passes = sum(Result.passed(r) for r in runs)
    return passes == len(runs) or passes > tries // 2 or len(runs) - passes > tries // 2


def verdict(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run that stands for a step: of the runs on the majority's side, the one nearest the edge (the worse
    pass, or the better failure); every run is kept in its `runs`."""
    passes = [r for r in runs if Result.passed(r)]
    fails = [r for r in runs if not Result.passed(r)]
    chosen = (
        max(passes, key=lambda r: r["lat_p99_ms"])
        if len(passes) > len(fails)
        else min(fails, key=lambda r: r["lat_p99_ms"])
    )
    return {**chosen, "runs": [{k: v for k, v in r.items() if k != "runs"} for r in runs]}


def step_timing(a: argparse.Namespace) -> dict[str, float]:
    timing: dict[str, float] = (
        {"duration": 3, "warmup": 1, "drain": 2, "quiet": 2}
        if a.quick
        else {"duration": 5, "warmup": 2, "drain": 2, "quiet": 3}
    )
    if a.duration:
        timing["duration"] = a.duration
    return timing


def run_step(
    kit: Path, label: str, shape: Shape, a: argparse.Namespace, timing: dict[str, float], up: Up, jsonl: Path
) -> Result:
    """The generator once over `shape`'s rates against a running target."""
    return run_ladder(
        kit,
        label,
        shape,
        clients=a.clients,
        timing=timing,
        urls=up.urls,
        pids=up.pids,
        token_file=up.token_file,
        redis=up.redis,
        jsonl=jsonl,
    )


def run_ladders(
    a: argparse.Namespace, kit: Path, root: Path, children: Children, tokens: dict[str, Path]
) -> list[Result]:
    """The ladders of a shape are climbed together: each rate runs on every target still climbing before the
    next rate, so the same minutes of a shared, noisy box judge them all. Each target stays up for the whole
    ladder once started."""
    timing = step_timing(a)
    targets = a.targets.split(",")
    if a.baseline:
        checkout_baseline(a.baseline, root / "baseline")
        targets += [t for t in ("base1", "base2") if f"py{t[-1]}" in targets]
    results: list[Result] = []
    for shape in shapes(a):
        ups: dict[str, Up] = {}
        try:
            ladders = {t: Result(NAMES[t], shape.name) for t in targets}
            climbing = list(targets)
            for rate in shape.rates:
                for target in climbing:
                    if target not in ups:  # started right before its first step, which measures memory per client
                        ups[target] = start_target(target, a, kit, root, children, tokens)
                    up = ups[target]
                    runs: list[dict[str, Any]] = []
                    for attempt in range(1, a.tries + 1):
                        step = run_step(
                            kit,
                            NAMES[target],
                            Shape(shape.name, shape.rooms, shape.senders, [rate]),
                            a,
                            timing,
                            up,
                            root / f"{target}-r{shape.rooms}-{rate}-{attempt}.jsonl",
                        )
                        runs += step.steps
                        if settled(runs, a.tries):
                            break
                    if runs:  # none if the kit failed to run
                        ladders[target].steps.append(verdict(runs))
                climbing = [
                    t for t in climbing if a.keep_going or (ladders[t].steps and Result.passed(ladders[t].steps[-1]))
                ]
                if not climbing:
                    break
            results += ladders.values()
            if a.redis_url and "py2" in ups:
                log(f"archive stream length after the ladder: {stream_length(a.redis_url)}")
        finally:
            for up in ups.values():
                up.stop()
    return results


def stream_length(redis_url: str) -> str:
    """The archive stream's length, for the log: a redis-cli that dies (it has, of SIGPIPE, right after a
    ladder's last step) costs the line, not the run's results."""
    try:
        return redis_cmd(redis_url, "XLEN", "chat:archive")
    except subprocess.CalledProcessError as exc:
        return f"unknown ({exc})"


def changes_rates(a: argparse.Namespace) -> dict[str, list[int]]:
    if not a.changes_rates:
        return CHANGES_QUICK if a.quick else CHANGES_FULL
    out: dict[str, list[int]] = {}
    for item in a.changes_rates.split(","):
        name, _, rate = item.partition(":")
        out.setdefault(name, []).append(int(rate))
    return out


def companion_tokens(base: str, path: Path) -> Path:
    """The changes companion's own users (benchchg00000...), apart from the generator's."""
    if not path.exists():
        path.write_text("\n".join(user_token(base, i, "benchchg") for i in range(CHANGES_CLIENTS)) + "\n")
    return path


def wait_ready(ready: Path, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit(f"the changes companion did not get ready (exit {proc.poll()}); see its log")
        time.sleep(0.1)


def run_changes(
    a: argparse.Namespace, kit: Path, root: Path, children: Children, tokens: dict[str, Path]
) -> list[dict[str, Any]]:
    """The channel-changes step: per shape, rate and product target, the same step twice in a row on the same
    running target: the generator alone, then the generator with bench/changes.py making sends/s / 9 changes
    per second (reactions, unreactions, edits: 10 % of all events)."""
    timing = step_timing(a)
    rates = changes_rates(a)
    targets = [t for t in a.targets.split(",") if t in ("py1", "py2")]
    rows: list[dict[str, Any]] = []
    for shape in shapes(a):
        name = f"r{shape.rooms}"
        for target in targets if rates.get(name) else []:
            up = start_target(target, a, kit, root, children, tokens)
            product_base = f"http://{up.urls[0]}"
            chg_tokens = companion_tokens(product_base, root / target / "changes-tokens.txt")
            try:
                for rate in rates[name]:
                    step = Shape(shape.name, shape.rooms, shape.senders, [rate])
                    runs: dict[str, dict[str, Any] | None] = {}
                    companion: dict[str, Any] | None = None
                    for mode in ("plain", "changes"):
                        tag = f"{target}-{name}-{rate}-{mode}"
                        proc = None
                        if mode == "changes":
                            ready, out = root / f"{tag}.ready", root / f"{tag}.json"
                            proc = children.start(
                                tag,
                                [
                                    sys.executable,
                                    str(REPO / "bench" / "changes.py"),
                                    "--urls", ",".join(up.urls),
                                    "--token-file", str(chg_tokens),
                                    "--rooms", str(shape.rooms),
                                    "--clients", str(CHANGES_CLIENTS),
                                    "--rate", f"{rate / 9:.3f}",
                                    "--warmup", str(timing["warmup"]),
                                    "--duration", str(timing["duration"]),
                                    "--ready", str(ready),
                                    "--out", str(out),
                                ],
                            )  # fmt: skip
                            wait_ready(ready, proc)
                        result = run_step(kit, f"{NAMES[target]} {mode}", step, a, timing, up, root / f"{tag}.jsonl")
                        runs[mode] = result.steps[0] if result.steps else None
                        if proc is not None:
                            try:
                                proc.wait(timeout=30)  # it ends itself once the generator's messages stop
                            except subprocess.TimeoutExpired:
                                log("!! the changes companion did not end by itself: stopped")
                            children.stop(proc)
                            if out.exists():
                                companion = json.loads(out.read_text())
                    rows.append(
                        {
                            "target": NAMES[target],
                            "shape": shape.name,
                            "room": a.clients // shape.rooms,
                            "rate": rate,
                            "plain": runs["plain"],
                            "changes": runs["changes"],
                            "companion": companion,
                        }
                    )
            finally:
                up.stop()
    return rows


def changes_verdict(row: dict[str, Any]) -> str:
    why = []
    for mode in ("plain", "changes"):
        step = row[mode]
        if step is None or not Result.passed(step):
            why.append(f"{mode} step failed")
    comp = row["companion"]
    if comp is None:
        why.append("no companion result")
    else:
        if comp["lost"]:
            why.append(f"{comp['lost']} changes lost")
        if comp["refused"]:
            why.append(f"refused {comp['refused']}")
        if comp["lat_p99_ms"] is None or comp["lat_p99_ms"] > P99_MS:
            why.append(f"change p99 {fmt(comp['lat_p99_ms'])} ms")
    return ", ".join(why) or "ok"


def changes_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| shape | server | sends/s | plain deliv/s | plain p99 ms | plain server CPU % | with changes: message "
        "deliv/s | p99 ms | server CPU % | changes/s | change deliv/s (offered) | change p50 ms | change p99 ms "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        plain, mixed, comp = row["plain"] or {}, row["changes"] or {}, row["companion"] or {}
        changes_ps = comp.get("changes_ps")
        offered = changes_ps * (row["room"] + 1) if changes_ps is not None else None  # +1: the companion member
        lines.append(
            f"| {row['shape']} | {row['target']} | {row['rate']} | {fmt(plain.get('delivered_ps'))} "
            f"| {fmt(plain.get('lat_p99_ms'), '.2f')} | {fmt(plain.get('server_cpu_pct_sum'))} "
            f"| {fmt(mixed.get('delivered_ps'))} | {fmt(mixed.get('lat_p99_ms'), '.2f')} "
            f"| {fmt(mixed.get('server_cpu_pct_sum'))} | {fmt(changes_ps, '.1f')} | {fmt(offered)} "
            f"| {fmt(comp.get('lat_p50_ms'), '.2f')} | {fmt(comp.get('lat_p99_ms'), '.2f')} "
            f"| {changes_verdict(row)} |"
        )
    return "\n".join(lines)


def fmt(v: float | None, spec: str = ".0f") -> str:
    return "-" if v is None else format(v, spec)


def table(results: list[Result]) -> str:
    ref = {(r.target.split(" ")[2] if r.target.startswith("Node") else "", r.shape): r for r in results}
    lines = [
        f"| shape | server | max deliv/s (p99 <= {P99_MS:g} ms, 0 lost) | p50 ms | p99 ms | server CPU us/deliv "
        "| Redis + archiver CPU % | RSS kB/client | rate / Node | memory / Node | first failing step |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        best = r.best
        node = None
        if not r.target.startswith("Node"):
            procs = "x2" if "2 nodes" in r.target else "x1"
            node = ref.get((procs, r.shape))
        rate_ratio = mem_ratio = None
        if node is not None:
            rate_ratio = r.max_rate / node.max_rate if node.max_rate else None
            if r.rss_kb_per_client and node.rss_kb_per_client:
                mem_ratio = r.rss_kb_per_client / node.rss_kb_per_client
        lines.append(
            f"| {r.shape} | {r.target} | {r.max_rate:.0f} | {fmt(best['lat_p50_ms'] if best else None, '.2f')} "
            f"| {fmt(best['lat_p99_ms'] if best else None, '.2f')} "
            f"| {fmt(Result.us_per_delivery(best) if best else None, '.1f')} "
            f"| {fmt(Result.helpers_cpu_pct(best) if best else None)} | {fmt(r.rss_kb_per_client, '.1f')} "
            f"| {fmt(rate_ratio, '.2f')} | {fmt(mem_ratio, '.2f')} | {r.first_failure} |"
        )
    return "\n".join(lines)


def main() -> None:
    a = parse_args()
    started = time.time()
    root = temp_root(a.workdir)
    kit = build_kit(Path(a.kit).resolve(), Path(a.build_dir))
    children = Children(root)
    log(f"work dir {root}")
    report: dict[str, object] = {}
    try:
        tokens: dict[str, Path] = {}
        results = run_ladders(a, kit, root, children, tokens)
        print(
            f"\n**investor-chat vs Node socket.io**: {a.clients} clients, {a.senders} senders, 32 B payload, "
            f"{os.cpu_count()} CPUs, one run ({'quick' if a.quick else 'full'}); us/deliv is the server processes' "
            "CPU; Redis's and the archiver's are the column beside it (Node's adapter: Redis only)\n"
        )
        print(table(results), flush=True)
        report["ladders"] = [{"target": r.target, "shape": r.shape, "steps": r.steps} for r in results]
        if not a.no_changes:
            rows = run_changes(a, kit, root, children, tokens)
            report["changes"] = rows
            print(
                f"\n**channel changes**: each rate twice on the same running server, messages only and then with "
                f"sends/s / 9 reactions, unreactions and edits from {CHANGES_CLIENTS} more clients (bench/changes.py"
                "; 10 % of all events); deliveries and p99 are the generator's `message` events, a change's "
                "latency is its emit to its author's own `message_updated`\n"
            )
            print(changes_table(rows), flush=True)
        if not a.no_history:
            total = 100_000 if a.quick else 1_000_000
            hist = history_bench(children, root / "history", total, 200 if a.quick else 500)
            report["history"] = hist
            print(
                f"\n**history**: join with the last 50 on SQLite holding {total:,} messages: "
                f"one client p50 {hist['serial_p50']:.2f} ms, p99 {hist['serial_p99']:.2f} ms; "
                f"10 clients at once p50 {hist['parallel10_p50']:.2f} ms, p99 {hist['parallel10_p99']:.2f} ms",
                flush=True,
            )
        if not a.no_archiver:
            n = 20_000 if a.quick else 100_000
            redis_cmd(a.redis_url, "FLUSHDB")
            sqlite_rate = archiver_bench(
                children, root / "arch-sqlite", a.redis_url, f"sqlite:///{root}/arch-sqlite/archive.sqlite3", n
            )
            redis_cmd(a.redis_url, "FLUSHDB")
            uri, proc = start_secantus(children)
            try:
                mongo_rate = archiver_bench(children, root / "arch-secantus", a.redis_url, uri, n)
            finally:
                children.stop(proc)  # type: ignore[arg-type]
            report["archiver"] = {"sqlite_per_s": sqlite_rate, "secantus_per_s": mongo_rate, "entries": n}
            print(
                f"\n**archiver** ({n:,} queued messages): SQLite {sqlite_rate:,.0f} messages/s; "
                f"SecantusDB (MongoDB wire protocol, in memory) {mongo_rate:,.0f} messages/s",
                flush=True,
            )
            best_sends = max(
                (
                    r.best["offered_deliv_ps"] / (a.clients / r.steps[0]["rooms"])
                    for r in results
                    if r.best and "investor-chat" in r.target
                ),
                default=0,
            )
            print(
                f"highest product send rate that passed: {best_sends:,.0f} messages/s "
                f"(the archiver keeps up when its rate is above this)"
            )
    finally:
        children.stop_all()
        if a.json:
            Path(a.json).write_text(json.dumps(report, indent=1))
    log(f"done in {time.time() - started:.0f}s; logs in {root}")


if __name__ == "__main__":
    main()
