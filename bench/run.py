"""Side-by-side benchmark: investor-chat (standalone, and two nodes through Redis) against the Node
Socket.IO reference, same load generator and shapes, in one run; plus history and archiver rates.

    python bench/run.py            # the full run (15-30 min: slower boxes fail sooner)
    python bench/run.py --quick    # short ladders, smaller history (~8 min)

Three shapes of 1000 clients (bench/shapes.py), each with senders of its own: r10, 10 rooms of 100 with 10
senders; r100, 100 rooms of 10 with 100 senders; r500, 500 rooms of 2 with 500 senders (a direct message's
shape). For each shape the product runs with its per-user send limit raised just above what that shape's
ladder needs (bench/shapes.py, send_limits).

After the ladders, the channel-changes step (--changes-rates, off with --no-changes) runs the product's
targets at one rate per shape twice in a row: messages only, then with bench/changes.py beside the
generator making a tenth of all events reactions and edits (changes/s = sends/s / 9).

The ladders of a shape are climbed together (each rate on every target before the next rate), so a
noisy stretch of a shared machine hits all targets alike; a failing step is run again (up to --tries
runs) and passes if most of its runs pass, so one hiccup of the box does not end a ladder. The shared kit
(../shared/bench, read-only) is copied and built in --build-dir; nothing of it is kept in the repository.
Progress goes to stderr, the summary tables to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.changes_step import changes_rates, run_changes
from bench.extras import archiver_bench, history_bench, start_secantus
from bench.ladder import Result, Shape
from bench.procs import REPO, Children, build_kit, log, redis_cmd, temp_root
from bench.report import changes_table, header, table
from bench.shapes import (
    CHANGES_CLIENTS,
    CHANGES_FULL,
    CHANGES_QUICK,
    SHAPES,
    build_shapes,
    rates_text,
    send_limits,
)
from bench.targets import NAMES, TARGETS, Bench, Up, checkout_baseline, run_step, start_target


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
    shapes = ", ".join(f"{name} ({rooms} rooms, {senders} senders)" for name, (rooms, senders) in SHAPES.items())
    ap.add_argument("--shapes", default=",".join(SHAPES), help=f"a subset of {shapes}")
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument(
        "--senders",
        help="senders per shape instead of its own (`r100:10,r500:100`), or a number for every shape",
    )
    ap.add_argument("--rates-r10", help="ladder of sends/s for rooms of 100")
    ap.add_argument("--rates-r100", help="ladder of sends/s for rooms of 10")
    ap.add_argument("--rates-r500", help="ladder of sends/s for rooms of 2")
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


def run_ladders(bench: Bench) -> list[Result]:
    """The ladders of a shape are climbed together: each rate runs on every target still climbing before the
    next rate, so the same minutes of a shared, noisy box judge them all. Each target stays up for the whole
    ladder once started."""
    a = bench.args
    targets = a.targets.split(",")
    if a.baseline:
        checkout_baseline(a.baseline, bench.root / "baseline")
        targets += [t for t in ("base1", "base2") if f"py{t[-1]}" in targets]
    results: list[Result] = []
    for shape in bench.shapes:
        ups: dict[str, Up] = {}
        try:
            ladders = {t: Result(NAMES[t], shape.name) for t in targets}
            climbing = list(targets)
            for rate in shape.rates:
                for target in climbing:
                    if target not in ups:  # started right before its first step, which measures memory per client
                        ups[target] = start_target(target, bench, shape)
                    runs: list[dict[str, Any]] = []
                    for attempt in range(1, a.tries + 1):
                        step = run_step(
                            bench,
                            NAMES[target],
                            Shape(shape.name, shape.rooms, shape.senders, [rate]),
                            ups[target],
                            bench.root / f"{target}-r{shape.rooms}-{rate}-{attempt}.jsonl",
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


def main() -> None:
    a = parse_args()
    started = time.time()
    root = temp_root(a.workdir)
    rates = {name: getattr(a, f"rates_{name}") for name in SHAPES}
    shapes = build_shapes(a.shapes, a.clients, quick=a.quick, rates=rates, senders=a.senders)
    changes = changes_rates(a.changes_rates, a.quick, a.no_changes)
    limits = {s.rooms: send_limits(s, changes.get(f"r{s.rooms}", [])) for s in shapes}
    for s in shapes:
        log(f"{s.name}: send limit {limits[s.rooms][0]}/s per user, burst {limits[s.rooms][1]}")
    kit = build_kit(Path(a.kit).resolve(), Path(a.build_dir))
    children = Children(root)
    bench = Bench(a, kit, root, children, shapes, limits)
    log(f"work dir {root}")
    report: dict[str, object] = {"send_limits": {s.name: limits[s.rooms] for s in shapes}}
    try:
        results = run_ladders(bench)
        print("\n" + header(a.clients, shapes, limits, a.quick) + "\n")
        print(table(results), flush=True)
        report["ladders"] = [{"target": r.target, "shape": r.shape, "steps": r.steps} for r in results]
        if changes:
            rows = run_changes(bench, changes)
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
            best_sends = max((r.best["rate"] for r in results if r.best and "investor-chat" in r.target), default=0)
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
