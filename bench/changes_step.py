"""bench/run.py's channel-changes step: each rate twice on the same running product, messages only and then
with bench/changes.py beside the generator making a tenth of all events reactions and edits."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.ladder import Shape
from bench.procs import REPO, log, user_token
from bench.shapes import CHANGES_CLIENTS, CHANGES_FULL, CHANGES_QUICK, parse_per_shape
from bench.targets import NAMES, Bench, Up, run_step, start_target


def changes_rates(given: str | None, quick: bool, no_changes: bool) -> dict[str, list[int]]:
    """The step's sends/s per shape: `--changes-rates` (`r100:4000,r500:4000`) or the defaults; none when off."""
    if no_changes:
        return {}
    if not given:
        return CHANGES_QUICK if quick else CHANGES_FULL
    return parse_per_shape(given)


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


def run_changes(bench: Bench, rates: dict[str, list[int]]) -> list[dict[str, Any]]:
    """Per shape, rate and product target, the same step twice in a row on the same running target: the
    generator alone, then the generator with bench/changes.py making sends/s / 9 changes per second
    (reactions, unreactions, edits: 10 % of all events)."""
    targets = [t for t in bench.args.targets.split(",") if t in ("py1", "py2")]
    rows: list[dict[str, Any]] = []
    for shape in bench.shapes:
        name = f"r{shape.rooms}"
        for target in targets if rates.get(name) else []:
            up = start_target(target, bench, shape)
            chg_tokens = companion_tokens(f"http://{up.urls[0]}", bench.root / target / "changes-tokens.txt")
            try:
                for rate in rates[name]:
                    rows.append(
                        changes_row(
                            bench, target, Shape(shape.name, shape.rooms, shape.senders, [rate]), up, chg_tokens
                        )
                    )
            finally:
                up.stop()
    return rows


def changes_row(bench: Bench, target: str, step: Shape, up: Up, chg_tokens: Path) -> dict[str, Any]:
    """One rate of the step on a running target: plain, then with the companion."""
    root, children, timing = bench.root, bench.children, bench.timing
    rate = step.rates[0]
    runs: dict[str, dict[str, Any] | None] = {}
    companion: dict[str, Any] | None = None
    for mode in ("plain", "changes"):
        tag = f"{target}-r{step.rooms}-{rate}-{mode}"
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
                    "--rooms", str(step.rooms),
                    "--clients", str(CHANGES_CLIENTS),
                    "--rate", f"{rate / 9:.3f}",
                    "--warmup", str(timing["warmup"]),
                    "--duration", str(timing["duration"]),
                    "--ready", str(ready),
                    "--out", str(out),
                ],
            )  # fmt: skip
            wait_ready(ready, proc)
        result = run_step(bench, f"{NAMES[target]} {mode}", step, up, root / f"{tag}.jsonl")
        runs[mode] = result.steps[0] if result.steps else None
        if proc is not None:
            try:
                proc.wait(timeout=30)  # it ends itself once the generator's messages stop
            except subprocess.TimeoutExpired:
                log("!! the changes companion did not end by itself: stopped")
            children.stop(proc)
            if out.exists():
                companion = json.loads(out.read_text())
    return {
        "target": NAMES[target],
        "shape": step.name,
        "room": bench.args.clients // step.rooms,
        "rate": rate,
        "plain": runs["plain"],
        "changes": runs["changes"],
        "companion": companion,
    }
