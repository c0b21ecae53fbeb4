"""`make upgrade-check`: the newest versions setup.cfg allows, in a throwaway venv: what changed against
requirements-dev.lock, which fast paths they switch off, then lint and every test run there.

Nothing here touches .venv or the locks: an upgrade is taken on purpose, by widening or keeping
setup.cfg's ranges and running `make lock` with pip-compile's --upgrade-package.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "var" / "upgrade-check"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", re.MULTILINE)
VERDICTS = """
from core.fastpaths import mismatches
from quotes.yahoo import CHART_ONLY
from core.bus.redis_client import HIREDIS_PACKING
from socketio_edge import FAST_PATHS
for path in (*FAST_PATHS, HIREDIS_PACKING, CHART_ONLY):
    problems = mismatches(path)
    print(f"  {path.name}: " + ("on" if not problems else "OFF (" + "; ".join(problems) + ")"))
"""


def run(*command: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=ROOT, text=True, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    return {_normal(name): version for name, version in PIN.findall(text)}


def main() -> int:
    shutil.rmtree(VENV, ignore_errors=True)
    run(sys.executable, "-m", "venv", VENV).check_returncode()
    pip = VENV / "bin" / "pip"
    run(pip, "install", "--quiet", "--upgrade", "--upgrade-strategy", "eager", "-e", ".[dev]").check_returncode()
    locked = pins((ROOT / "requirements-dev.lock").read_text())
    newest = pins(run(pip, "freeze", "--exclude-editable", capture_output=True).stdout)
    print("Against requirements-dev.lock:")
    changes = 0
    for name in sorted(locked.keys() | newest.keys()):
        old, new = locked.get(name), newest.get(name)
        if old != new and name not in ("pip", "setuptools"):
            changes += 1
            print(f"  {name}: {old or '(not locked)'} -> {new or '(not installed)'}")
    print(f"  {changes} changed" if changes else "  nothing newer within setup.cfg's ranges")
    print("Fast paths at these versions:")
    run(VENV / "bin" / "python", "-c", VERDICTS).check_returncode()
    (VENV / ".installed").touch()  # the Makefile's stamp: lint and tests take this venv as it is
    return run("make", "lint", "test-python", f"VENV={VENV.relative_to(ROOT)}").returncode


if __name__ == "__main__":
    sys.exit(main())
