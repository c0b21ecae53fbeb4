"""The benchmark's shapes (rooms, senders, rate ladders) and the send limits the product runs with for them."""

from __future__ import annotations

import math

from bench.ladder import Shape
from core.settings import Settings

# rooms and senders per shape: 1000 clients in 10 rooms of 100, 100 rooms of 10, 500 rooms of 2 (a direct
# message's shape); in rooms of 10 and 2 every room has senders of its own, as in issue #25's figures
SHAPES = {"r10": (10, 10), "r100": (100, 100), "r500": (500, 500)}
# sends/s, up to where Node also fails on this 2-core machine, so the ratios are not capped by the ladder
# (Node x1 passed 3,000 in r10, 4,000 in r100 and 12,000 in r500; 1.5x of it is on every ladder)
FULL = {
    "r10": [*range(100, 1001, 100), *range(1200, 2401, 200), 2700, 3000],
    "r100": [*range(1000, 16001, 1000), 18000, 20000, 22000, 24000],
    "r500": [*range(2000, 10001, 2000), *range(11000, 20001, 1000), 22000, 24000],
}
QUICK = {"r10": [100, 200, 400], "r100": [500, 1000, 2000], "r500": [1000, 2000, 4000]}
# the channel-changes step: sends/s per shape, run plain and with a tenth of the events changes
# (below where the product's plain step fails today, so the changes' cost shows: r100 4,000, r500 5,000)
CHANGES_FULL = {"r10": [1000], "r100": [3000], "r500": [3000]}
CHANGES_QUICK = {"r10": [200], "r100": [1000], "r500": [1000]}
CHANGES_CLIENTS = 10  # the companion's users: cheap beside the generator, one or more rooms each
# the send limit over what the bench needs: the loadgen sends what fell due at once when it lags a moment
LIMIT_MARGIN = 1.5


def rates_text(rates: dict[str, list[int]]) -> str:
    return ",".join(f"{shape}:{rate}" for shape, list_ in rates.items() for rate in list_)


def parse_per_shape(text: str | None) -> dict[str, list[int]]:
    """`r100:1000,r100:2000,r500:4000` as {shape: [values]}."""
    out: dict[str, list[int]] = {}
    for item in (text or "").split(","):
        if item.strip():
            name, _, value = item.strip().partition(":")
            out.setdefault(name, []).append(int(value))
    return out


def build_shapes(
    names: str, clients: int, *, quick: bool, rates: dict[str, str | None], senders: str | None
) -> list[Shape]:
    """The run's shapes: `names` (comma list of SHAPES), each with its ladder (or its `rates` entry) and its own
    senders (or the override in `senders`: `r100:10,r500:100`, or a bare number for every shape)."""
    ladders = QUICK if quick else FULL
    given: dict[str, int] = {}
    for item in (senders or "").split(","):
        name, _, value = item.strip().rpartition(":")
        if value:
            given[name or "*"] = int(value)
    out = []
    for name in names.split(","):
        if name not in SHAPES:
            raise SystemExit(f"unknown shape {name!r}: one of {', '.join(SHAPES)}")
        rooms, default_senders = SHAPES[name]
        own = rates.get(name)
        ladder = [int(x) for x in own.split(",")] if own else ladders[name]
        n = given.get(name, given.get("*", default_senders))
        out.append(Shape(f"rooms of {clients // rooms} (-r {rooms} -s {n})", rooms, n, ladder))
    return out


def send_limits(shape: Shape, changes: list[int]) -> tuple[int, int]:
    """Per-user send rate and burst for the product while it runs `shape` (its ladder, and the changes step at
    `changes` sends/s): LIMIT_MARGIN over the most one user sends, so the limit stays enforced (a user sending
    faster is refused, as in production) and is just above what the bench needs. The generator spreads a
    step's rate over the shape's senders; the changes companion's users make sends/s / 9 / CHANGES_CLIENTS
    changes/s each (reactions and edits spend the send budget too) and, setting up, post one message per room
    they join back to back."""
    per_user = max([*shape.rates, *changes]) / shape.senders
    setup = 1
    if changes:
        per_user = max(per_user, max(changes) / 9 / CHANGES_CLIENTS)
        setup = math.ceil(shape.rooms / CHANGES_CLIENTS)
    rate = math.ceil(LIMIT_MARGIN * per_user)
    # two seconds of the limit, and never less than the companion's setup posts
    burst = max(2 * rate, math.ceil(LIMIT_MARGIN * setup))
    # raised only: a short ladder never runs under a limit stricter than the product's own
    defaults = Settings.model_fields
    return max(rate, math.ceil(defaults["send_rate"].default)), max(burst, defaults["send_burst"].default)
