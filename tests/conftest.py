"""Shared fixtures: real services, fake quote providers and the running app."""

from __future__ import annotations

import pytest

from core import fastpaths
from core.settings import Settings

pytest_plugins = [
    "tests.services",
    "tests.fakes.fixtures",
    "tests.apps",
    "tests.stack_fixtures",
    "tests.faults",
    "tests.old_stores",
]


@pytest.fixture(autouse=True, scope="session")
def fast_paths_as_the_environment_says() -> None:
    """CHAT_FAST_PATHS=off (make test-stock-paths) holds for code that tests run without an app, too
    (an app sets it from its own settings)."""
    fastpaths.configure(Settings().fast_paths)
