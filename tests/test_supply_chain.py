"""Everything make run, make test and the image install is locked with hashes: requirements.lock (the
image's runtime) and requirements-dev.lock (the same pins plus the development tools), both from
setup.cfg's ranges by `make lock`. (The vulnerability audits need the advisory services: `make audit`.)"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^ ;]+)[^\n]*\\$", re.MULTILINE)


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0]).lower()


def _requirements(section: str, key: str) -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = (line.split("#", 1)[0].strip() for line in config[section][key].splitlines())
    return {_name(line) for line in lines if line}


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[1])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block), lock
    assert "--find-links" not in text and "--index-url" not in text, lock  # nothing of this machine leaks in
    return {_name(name): version for name, version in PIN.findall(text)}


def test_both_locks_pin_every_dependency_with_hashes_and_agree() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert _requirements("options", "install_requires") | {"setuptools"} <= runtime.keys()
    assert _requirements("options.extras_require", "dev") <= dev.keys()
    assert {name: dev.get(name) for name in runtime} == runtime  # one environment: the image's pins are the tests'
    print(f"\n[supply] requirements.lock: {len(runtime)} packages; requirements-dev.lock: {len(dev)}, all hashed")


def test_every_installer_takes_the_lock_and_nothing_else() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes --no-deps -r requirements-dev.lock" in makefile
    assert "pip install --quiet --no-deps --no-build-isolation -e ." in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "pip install --no-deps --no-build-isolation ." in dockerfile
    installs = [line for text in (makefile, dockerfile) for line in text.splitlines() if "pip install" in line]
    unlocked = [line for line in installs if "--no-deps" not in line and "pip-tools" not in line]
    assert unlocked == [], unlocked  # only pip-tools itself, in make lock's own venv, resolves anything
    assert "make test" in (ROOT / ".ci" / "run").read_text()
