"""One rate ladder through the shared kit's run.py, and the figures the summary table needs from it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.procs import log

P99_MS = 50.0


@dataclass
class Shape:
    name: str
    rooms: int
    senders: int
    rates: list[int]


@dataclass
class Result:
    target: str
    shape: str
    steps: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def passed(step: dict[str, Any]) -> bool:
        return (
            step["ready"] >= step["clients"]
            and not step["dropped"]
            and not step["send_ack_err"]
            and step["lost"] <= 0
            and step["lat_samples"] > 0
            and step["lat_p99_ms"] <= P99_MS
        )

    @property
    def best(self) -> dict[str, Any] | None:
        good = [s for s in self.steps if self.passed(s)]
        return max(good, key=lambda s: s["offered_deliv_ps"]) if good else None

    @property
    def max_rate(self) -> float:
        best = self.best
        # the step's rate: a passing step lost nothing, so it delivered what was offered (the measured
        # per-second figure strays by a percent or two with the window's edges, which would rank a tie)
        return float(best["offered_deliv_ps"]) if best else 0.0

    @property
    def rss_kb_per_client(self) -> float | None:
        if not self.steps or self.steps[0]["server_rss_kb_per_client"] < 0:
            return None
        return float(self.steps[0]["server_rss_kb_per_client"])

    @staticmethod
    def us_per_delivery(step: dict[str, Any]) -> float | None:
        if step["delivered_ps"] <= 0:
            return None
        return float(step["server_cpu_pct_sum"]) / 100 * 1e6 / float(step["delivered_ps"])

    @staticmethod
    def helpers_cpu_pct(step: dict[str, Any]) -> float | None:
        """CPU % of the processes sampled beside the servers (Redis, the archiver): the cost of what they carry,
        which us/deliv leaves out; None when there are none (one process)."""
        helpers = [p["cpu_pct"] for name, p in step.get("procs", {}).items() if not name.startswith("srv")]
        return float(sum(helpers)) if helpers else None

    @property
    def first_failure(self) -> str:
        for s in self.steps:
            if not self.passed(s):
                why = []
                if s["lat_p99_ms"] > P99_MS:
                    why.append(f"p99 {s['lat_p99_ms']:.0f} ms")
                if s["lost"] > 0:
                    why.append(f"lost {s['lost']}")
                if s["send_ack_err"]:
                    why.append(f"{s['send_ack_err']} refused")
                if s["ready"] < s["clients"]:
                    why.append(f"{s['clients'] - s['ready']} not joined")
                if s["dropped"]:
                    why.append(f"{s['dropped']} dropped")
                return f"{s['offered_deliv_ps']:.0f}/s: " + ", ".join(why or ["no deliveries"])
        return "-"


def run_ladder(
    kit: Path,
    target: str,
    shape: Shape,
    *,
    clients: int,
    timing: dict[str, float],
    urls: list[str],
    pids: list[str],
    token_file: Path | None = None,
    redis: str | None = None,
    jsonl: Path,
) -> Result:
    """Run the kit's ladder for one target (already running at `urls`) and shape; every step's JSON lands in
    `jsonl`. The ladder stops at its first failing step."""
    if jsonl.exists():
        jsonl.unlink()
    cmd = [
        sys.executable,
        str(kit / "run.py"),
        "-n",
        str(clients),
        "-r",
        str(shape.rooms),
        "-s",
        str(shape.senders),
        "--rates",
        ",".join(map(str, shape.rates)),
        "--duration",
        str(timing["duration"]),
        "--warmup",
        str(timing["warmup"]),
        "--drain",
        str(timing["drain"]),
        "--quiet-wait",
        str(timing["quiet"]),
        "--jsonl",
        str(jsonl),
        "--label",
        f"{target} {shape.name}",
    ]
    cmd += ["--urls", ",".join(urls), "--pids", ",".join(pids)]
    if redis:
        cmd += ["--redis", redis]
    if token_file:
        cmd += ["--token-file", str(token_file)]
    log(f"== {target}, {shape.name}: rates {shape.rates}")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    sys.stderr.write(proc.stdout)
    result = Result(target, shape.name)
    if jsonl.exists():
        result.steps = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
    if proc.returncode != 0:
        log(f"!! ladder for {target} {shape.name} exited {proc.returncode}")
    return result
