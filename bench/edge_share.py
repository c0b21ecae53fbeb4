"""Where a node's CPU goes under the benchmark's load, by package: how much of it python-socketio and
python-engineio still spend, which bounds what replacing them with a transport of our own could save
(docs/architecture.md).

    python bench/edge_share.py                 # both shapes at a rate every run passes
    python bench/edge_share.py --shape r10 --rate 1500

It runs one step of bench/run.py on the standalone target and samples the node with py-spy, installed in
a throwaway venv (var/profile) because nothing else needs it. Self time is the innermost Python frame's
package: a C call (a socket write, orjson) counts for the Python line that made it.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROFILE_VENV = REPO / "var" / "profile"
PY_SPY = PROFILE_VENV / "bin" / "py-spy"
DEFAULT_RATES = {"r10": 1500, "r100": 6000}  # rooms of 100: 150,000 deliveries/s; rooms of 10: 60,000
LIBRARIES = ("engineio", "socketio")
FRAME = re.compile(r"\((?P<path>[^()]*?):\d+\)$")


def ensure_py_spy() -> None:
    if not PY_SPY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PROFILE_VENV)], check=True)
        subprocess.run([str(PROFILE_VENV / "bin" / "pip"), "install", "--quiet", "py-spy==0.4.3"], check=True)


def node_pid(bench: subprocess.Popen[str], timeout: float = 300) -> int:
    """The standalone node's pid, once the load generator has joined every client to it."""
    assert bench.stderr is not None
    deadline = time.monotonic() + timeout
    for line in bench.stderr:
        sys.stderr.write(line)
        if "joined" in line:
            break
        if time.monotonic() > deadline:
            raise SystemExit("the benchmark did not start")
    found = subprocess.run(["pgrep", "-n", "-f", "bin/investor-chat"], capture_output=True, text=True, check=True)
    return int(found.stdout.split()[0])


def package(frame: str) -> str:
    match = FRAME.search(frame)
    return match["path"].split("/")[0] if match else "native"


def shares(raw: str) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """Samples, self time and inclusive time by top-level package, from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        frames = [f for f in stack.split(";") if FRAME.search(f)]
        if frames:
            own[package(frames[-1])] += samples
            for name in {package(f) for f in frames}:
                inclusive[name] += samples
    return total, own, inclusive


def profile(shape: str, rate: int, seconds: int, out: Path) -> None:
    bench = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "run.py"), "--targets", "py1", "--shapes", shape,
         f"--rates-{shape}", str(rate), "--duration", str(seconds + 20), "--no-history", "--no-archiver",
         "--tries", "1", "--keep-going"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    pid = node_pid(bench)
    time.sleep(10)  # past the ramp-up
    subprocess.run(
        [str(PY_SPY), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200", "--format", "raw",
         "--nonblocking", "--output", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    summary, rest = bench.communicate()
    sys.stderr.write(rest)
    total, own, _ = shares(out.read_text())
    print(f"\n## {shape} at {rate} sends/s: {total} samples of the node")
    print("self time: " + ", ".join(f"{name} {100 * n / total:.1f}%" for name, n in own.most_common(10)))
    libraries = sum(own[name] for name in LIBRARIES)
    print(f"python-socketio + python-engineio self time: {100 * libraries / total:.1f}%")
    lines = [line for line in summary.splitlines() if line.startswith("| ") and "standalone" in line]
    print("\n".join(lines[-1:]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=sorted(DEFAULT_RATES), action="append")
    ap.add_argument("--rate", type=int, help="sends/s (default: per shape)")
    ap.add_argument("--seconds", type=int, default=25, help="seconds sampled")
    a = ap.parse_args()
    ensure_py_spy()
    for shape in a.shape or sorted(DEFAULT_RATES):
        profile(shape, a.rate or DEFAULT_RATES[shape], a.seconds, REPO / "var" / f"edge-share-{shape}.txt")


if __name__ == "__main__":
    main()
