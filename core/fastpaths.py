"""Code that reaches into libraries' private parts, each piece switched on only where it is safe.

Each fast path names the exact library versions it was written and measured against and the
private attributes it touches. The first time a process asks whether a path is on, that is
checked: any other version, or a missing attribute, switches the path off with one warning line,
and the libraries' own code serves instead, correctly if slower. `CHAT_FAST_PATHS=off` switches
them all off. `tests/test_fastpaths.py` also fingerprints the upstream functions each path
replaces or copies, so a changed upstream body fails a test that lists what to re-read.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FastPath:
    name: str
    gain: str  # what it buys, in words; the figures and how they were measured are in docs/performance.md
    versions: Mapping[str, str]  # distribution name -> the exact version it was checked against
    attributes: tuple[str, ...]  # "module:Object.attr" that must exist for it to work
    # "module:qualname" -> sha256 prefix of the upstream source it replaces or imitates (the canary test)
    sources: Mapping[str, str] = field(default_factory=dict)


_enabled = True
_verdicts: dict[str, bool] = {}


def configure(enabled: bool) -> None:
    """Switch every fast path off (CHAT_FAST_PATHS=off) or let each be judged on its own."""
    global _enabled
    if enabled != _enabled:
        _enabled = enabled
        _verdicts.clear()


def is_on(path: FastPath) -> bool:
    """Whether `path` may run in this process; the first answer off for a mismatch logs why."""
    if not _enabled:
        return False
    verdict = _verdicts.get(path.name)
    if verdict is None:
        problems = mismatches(path)
        verdict = _verdicts[path.name] = not problems
        if problems:
            logger.warning("fast path %s is off, the libraries' own code serves: %s", path.name, "; ".join(problems))
    return verdict


def mismatches(path: FastPath) -> list[str]:
    """What differs from what `path` was written for; empty when it may run."""
    problems = []
    for dist, wanted in path.versions.items():
        found = installed_version(dist)
        if found != wanted:
            problems.append(f"{dist} is {found or 'not installed'}, written for {wanted}")
    problems += [f"{where} is missing" for where in path.attributes if resolve(where) is None]
    return problems


def installed_version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def resolve(where: str) -> object | None:
    """The object at "module:Object.attr", or None where any part is missing."""
    module_name, _, dotted = where.partition(":")
    try:
        found: object = importlib.import_module(module_name)
    except ImportError:
        return None
    for part in dotted.split(".") if dotted else ():
        found = getattr(found, part, _MISSING)
        if found is _MISSING:
            return None
    return found


_MISSING = object()


def require(path: FastPath) -> None:
    """For overrides that are not speed but protection (nothing safe to fall back to): a missing
    attribute stops the process with what to re-read; another version is only worth a warning."""
    missing = [where for where in path.attributes if resolve(where) is None]
    if missing:
        raise RuntimeError(f"{path.name}: {', '.join(missing)} no longer exist; re-read {path.gain}")
    for problem in mismatches(path):
        logger.warning("%s: %s; its overrides still apply, re-read %s", path.name, problem, path.gain)


def fingerprint(where: str) -> str | None:
    """A short sha256 of the source of the upstream function or class at "module:qualname"."""
    found = resolve(where)
    if found is None:
        return None
    try:
        source = inspect.getsource(found)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return None
    return hashlib.sha256(source.encode()).hexdigest()[:16]
