"""The ids and time stamps every message gets."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from core.models import iso, new_id, now_iso, utcnow


def test_message_ids_are_unique_object_ids_of_now() -> None:
    ids = [new_id() for _ in range(100_000)]
    assert len(set(ids)) == len(ids)
    assert all(ObjectId.is_valid(i) for i in ids[:1000])
    made = ObjectId(ids[-1]).generation_time
    assert abs(made - datetime.now(UTC)) < timedelta(seconds=2)
    assert ids[0][8:18] == ids[-1][8:18]  # one process part ...
    assert int(ids[1][18:], 16) == (int(ids[0][18:], 16) + 1) % (1 << 24)  # ... and a counter


def test_a_forked_child_makes_ids_of_its_own() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.write(write, new_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    theirs = os.read(read, 24).decode()
    os.close(read)
    os.close(write)
    assert theirs[8:18] != new_id()[8:18]


def test_time_stamps_are_now_in_the_wire_form() -> None:
    seconds: set[str] = set()
    while len(seconds) < 2:  # across a second boundary, where the cached part changes
        before, stamp, after = iso(utcnow()), now_iso(), iso(utcnow())
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
        assert before <= stamp <= after
        seconds.add(stamp[:19])
