"""Where the CPU of one send goes: the benchmark's load at one fixed rate, each product process sampled with
py-spy while its threads' CPU is read from /proc, the result in microseconds of CPU per send.

    python bench/send_profile.py                                  # standalone, rooms of 2, 4,000 sends/s
    python bench/send_profile.py --target py2 --rooms 100 --rate 3000
    python bench/send_profile.py --baseline 1945b5d               # the same load on REF first, then on this tree

The load is the shared kit's generator (1000 clients, client i in room i % rooms, as many senders as rooms, so
every room has one). A process's CPU per send is its /proc CPU over the sampled window divided by the sends of
the window. Within a node's main thread the py-spy samples are sorted into the stages of a send by the
innermost stage a sample is in (a message validated inside the send handler counts for the handler, its
delivery inside the post for the fan-out). py-spy samples only the thread holding the GIL (`--gil`), and the
main thread's CPU is shared out by those samples, so a stage's figure is its share of the thread's CPU; the
loop's idle waits release the GIL and count nothing. Other threads (aiosqlite's, which runs SQLite) count whole.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.edge_share import PY_SPY, ensure_py_spy
from bench.procs import REPO, Children, Product, build_kit, redis_cmd, register, temp_root

# (stage, markers): a sample belongs to the innermost frame that carries one of the markers
STAGES = [
    ("archive: archiver (Python)", ("Archiver.", "journal (archiver", "extend_chain", "_run (archiver")),
    ("archive: notifier", ("Notifier.",)),
    ("background: retention, sweeps, presence", ("Retention.", "sweep", "presence", "Presence")),
    ("receive: websocket frame read", ("LeanSocket._websocket_handler", "WebSocketResponse.receive", "data_received")),
    ("receive: Socket.IO event decode", ("ChatSocketServer.fast_event",)),
    ("send: checks and the message drafted", ("MessageEvents.send_soon", "MessageEvents.send ")),
    ("post: seq, recent buffer, archive queue", ("MemoryBus.post_soon", "MemoryBus._post", "RedisBus.post")),
    ("bus: Redis client (pack, round trip, reply)", ("Batcher", "redis_client", "redis/asyncio")),
    ("bus: live feed read", ("LiveFeed.",)),
    ("fan-out: route and frame", ("Realtime.on_live", "LiveHandlers.dispatch", "FrameOnceManager.deliver")),
    ("ack", ("MessageEvents._posted", "ChatSocketServer._answer", "ChatSocketServer._ack")),
    ("writes: socket write syscalls", ("Coalescer._flush", "Coalescer.flush_for")),
]
FRAME = re.compile(r"^(?P<fn>.*) \((?P<path>[^()]*?):\d+\)$")
LOOP = "event loop itself (uvloop: epoll, socket reads, callbacks)"


def stage_of(frames: list[str]) -> str | None:
    for frame in reversed(frames):
        for stage, markers in STAGES:
            if any(marker in frame for marker in markers):
                return stage
    return None


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of `pid`, by thread name (the main thread as 'main')."""
    tick = 100.0
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        name = "main" if task.name == str(pid) else stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def main_thread_stages(raw: Path) -> tuple[collections.Counter[str], int]:
    """py-spy's samples of the main thread by stage (None: the loop itself or anything unmarked)."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any("Thread._bootstrap" in f for f in frames):
            continue
        n = int(count)
        total += n
        named = [f for f in frames if FRAME.match(f)]
        stage = stage_of(named)
        if stage is None and named and not named[-1].startswith("run_app"):
            stage = "other Python"
        counts[stage or LOOP] += n
    return counts, total


def spy(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy on `pid` for `seconds`, sampling the thread holding the GIL, raw stacks into `out`."""
    cmd = [str(PY_SPY), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200", "--format", "raw"]
    cmd += ["--nonblocking", "--gil", "--output", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def evalsha(redis_url: str) -> float:
    """Redis's microseconds in EVALSHA (the post script) so far."""
    for line in redis_cmd(redis_url, "INFO", "commandstats").splitlines():
        if line.startswith("cmdstat_evalsha:"):
            return float(dict(kv.split("=") for kv in line.split(":", 1)[1].split(","))["usec"])
    return 0.0


def profile(a: argparse.Namespace, kit: Path, root: Path, code: Path | None, label: str) -> Report:
    children = Children(root)
    redis_url = a.redis_url if a.target == "py2" else None
    if redis_url:
        redis_cmd(redis_url, "FLUSHDB")
    share = max(5.0, a.rate / a.rooms * 1.5)  # each sender's send limit: raised only as far as this load needs
    nodes = 2 if redis_url else 1
    product = Product(
        children, root / label, nodes=nodes, redis_url=redis_url, rate=share, burst=int(2 * share), code=code
    )
    tokens = root / label / "tokens.txt"
    try:
        product.start()
        register(product.base, a.clients, [f"bench-{k}" for k in range(a.rooms)], tokens)
        procs = {f"node{i}": p.pid for i, p in enumerate(product.procs)}
        if product.archiver is not None:
            procs["archiver"] = product.archiver.pid
        pids = ",".join(f"{name}={pid}" for name, pid in procs.items())
        gen = subprocess.Popen(
            [str(kit / "loadgen" / "loadgen"), "--urls", ",".join(product.urls), "-n", str(a.clients),
             "-r", str(a.rooms), "-s", str(a.rooms), "--rate", str(a.rate), "--token-file", str(tokens),
             "--channel-prefix", "bench-", "--warmup", "8", "--duration", str(a.seconds + 4), "--pids", pids],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert gen.stderr is not None
        for line in gen.stderr:  # the generator says when every client has joined
            if "joined" in line or gen.poll() is not None:
                break
        time.sleep(10)  # past the warm-up
        if redis_url:
            procs["redis"] = int(redis_cmd(redis_url, "INFO", "server").split("process_id:")[1].split()[0])
        before = {name: thread_cpu(pid) for name, pid in procs.items()}
        usec0 = evalsha(redis_url) if redis_url else 0.0
        spies = {
            name: spy(pid, a.seconds, root / f"{label}-{name}.txt") for name, pid in procs.items() if name != "redis"
        }
        started = time.monotonic()
        for sampling in spies.values():
            sampling.wait()
        window = time.monotonic() - started
        after = {name: thread_cpu(pid) for name, pid in procs.items()}
        usec1 = evalsha(redis_url) if redis_url else 0.0
        summary, _ = gen.communicate()
        result = json.loads(summary.strip().splitlines()[-1])
    finally:
        product.stop()
        children.stop_all()
    sends = a.rate * window
    cpu = {name: {t: after[name][t] - before[name].get(t, 0.0) for t in after[name]} for name in procs}
    report = Report(label, float(result.get("lat_p99_ms", -1)), int(result.get("lost", -1)))
    report.per_process = {name: sum(threads.values()) / sends * 1e6 for name, threads in cpu.items()}
    stages = report.stages
    for name in spies:
        role = name.rstrip("0123456789")
        counts, total = main_thread_stages(root / f"{label}-{name}.txt")
        for stage, n in counts.items():  # the thread's CPU shared out by its samples holding the GIL
            stages[f"{role}: {stage}"] = (
                stages.get(f"{role}: {stage}", 0.0) + cpu[name]["main"] * n / total / sends * 1e6
            )
        others = sum(s for thread, s in cpu[name].items() if thread != "main")  # aiosqlite's runs SQLite
        if others:
            key = f"{role}: other threads (aiosqlite: SQLite)"
            stages[key] = stages.get(key, 0.0) + others / sends * 1e6
    if redis_url:
        stages["redis: the process"] = cpu["redis"]["main"] / sends * 1e6
        report.evalsha_us = (usec1 - usec0) / sends
    return report


@dataclass
class Report:
    label: str
    p99_ms: float
    lost: int
    per_process: dict[str, float] = field(default_factory=dict)  # µs of CPU per send
    stages: dict[str, float] = field(default_factory=dict)  # µs of CPU per send
    evalsha_us: float | None = None  # Redis's own time in the post script per send


def table(reports: list[Report]) -> str:
    keys = sorted({k for r in reports for k in r.stages}, key=lambda k: -max(r.stages.get(k, 0.0) for r in reports))
    lines = ["| µs of CPU per send | " + " | ".join(r.label for r in reports) + " |", "|---" * (len(reports) + 1) + "|"]
    lines += [f"| {k} | " + " | ".join(f"{r.stages.get(k, 0.0):.1f}" for r in reports) + " |" for k in keys]
    lines.append(
        "| **every process** | " + " | ".join(f"**{sum(r.per_process.values()):.1f}**" for r in reports) + " |"
    )
    for r in reports:
        evalsha = f", the post script {r.evalsha_us:.1f} µs of Redis a send" if r.evalsha_us is not None else ""
        per = ", ".join(f"{name} {us:.1f}" for name, us in r.per_process.items())
        lines.append(f"\n{r.label}: µs per send by process: {per}; p99 {r.p99_ms:.1f} ms, lost {r.lost}{evalsha}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", choices=("py1", "py2"), default="py1", help="standalone, or 2 nodes on Redis")
    ap.add_argument("--rooms", type=int, default=500, help="rooms of clients/rooms, one sender each")
    ap.add_argument("--rate", type=int, default=4000, help="sends/s")
    ap.add_argument("--seconds", type=int, default=20, help="seconds sampled")
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--baseline", help="a git ref profiled first under the same load")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/5", help="a database this may flush")
    ap.add_argument("--kit", default=str(REPO.parent / "shared" / "bench"))
    a = ap.parse_args()
    ensure_py_spy()
    kit = build_kit(Path(a.kit).resolve(), Path("/tmp/investor-chat-bench-build"))
    root = temp_root(None)
    reports: list[Report] = []
    if a.baseline:
        base = root / "baseline-code"
        base.mkdir()
        archive = subprocess.run(["git", "archive", a.baseline], cwd=REPO, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        reports.append(profile(a, kit, root, base, f"baseline {a.baseline}"))
    reports.append(profile(a, kit, root, None, "working tree"))
    print(
        f"\n{a.target}, rooms of {a.clients // a.rooms}, {a.rooms} senders, {a.rate} sends/s, {a.seconds} s sampled\n"
    )
    print(table(reports))


if __name__ == "__main__":
    main()
