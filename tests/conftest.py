"""Shared fixtures: real services, fake quote providers and the running app."""

from __future__ import annotations

pytest_plugins = ["tests.services", "tests.fakes.fixtures", "tests.apps", "tests.stack_fixtures", "tests.faults"]
