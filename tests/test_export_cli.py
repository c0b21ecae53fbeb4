"""`investor-chat archive export` as an operator meets it (#24, docs/compliance.md#export): the files and the
manifest on both stores, progress on standard error, an audit entry of the command line, and the exit status of
bad usage (2) and of a failed export (1, nothing left behind)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from pathlib import Path

import pytest

from core.exports import exporter
from core.store import Store
from server import archive_cli, export_cli
from tests.test_export import DAY1, DAY2, DAY3, archive, desk_records, files_in, ops_records, sha256


async def cli(store_url: str, *args: str) -> tuple[int, str, str]:
    """`investor-chat archive export ARGS` on the store, in a thread (it runs its own event loop): the exit
    status, standard output and standard error."""

    def run() -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = archive_cli.main(["export", "--storage-url", store_url, *args])
            except SystemExit as exc:  # argparse's own usage errors
                status = int(exc.code or 0)
        return status, out.getvalue(), err.getvalue()

    return await asyncio.to_thread(run)


async def test_an_export_from_the_command_line_is_written_reported_and_audited(
    store: Store, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await archive(store, desk_records() + ops_records())
    monkeypatch.setattr(exporter, "PROGRESS_EVERY", 2)  # what 50,000 records would show, from 8
    monkeypatch.setattr(export_cli, "PROGRESS_LINE", 3)
    out = tmp_path / "march"
    status, stdout, stderr = await cli(store_url, "--from", DAY1, "--to", DAY3, "--format", "csv", "--out", str(out))
    assert status == 0, stderr
    assert files_in(out) == {"desk.csv", "ops.csv"}
    manifest = json.loads((out / "manifest.json").read_bytes())
    assert manifest["files"] == {name: sha256(out / name) for name in files_in(out)}
    assert stderr.splitlines() == [
        "4 records, 0 of 2 channels",
        "6 records, 0 of 2 channels",
        "8 records, 2 of 2 channels",
    ]
    assert stdout == (
        f"exported 8 records of 2 channels into {out}: 3 files, {export_size(out):,} "
        f"bytes; manifest.json sha256 {sha256(out / 'manifest.json')}\n"
    )
    done, requested = await store.audit(before=None, limit=2)
    asked = {"format": "csv", "from": DAY1, "to": DAY3}
    assert (requested.actor, requested.action, requested.details) == (None, "export.requested", asked)
    assert (done.actor, done.action) == (None, "export.done")
    assert done.details == {
        **asked, "events": 8, "files": 3, "size": export_size(out), "manifest": sha256(out / "manifest.json"),
        "out": str(out),
    }  # fmt: skip


def export_size(out: Path) -> int:
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file())


async def test_one_channel_of_one_day_as_emails(store: Store, store_url: str, tmp_path: Path) -> None:
    await archive(store, desk_records() + ops_records())
    out = tmp_path / "day2"
    args = ("--from", DAY2, "--to", DAY2, "--channel", "desk", "--format", "eml", "--out", str(out))
    status, stdout, _ = await cli(store_url, *args)
    assert status == 0 and stdout.startswith("exported 1 records of 1 channels")
    assert files_in(out) == {"desk/6.eml"}  # the deletion on day 2, not ops's post of that day
    details = (await store.audit(before=None, limit=1))[0].details
    assert details["channels"] == ["desk"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--from", "2026-3-1", "--to", DAY3, "--format", "jsonl"], "'2026-3-1' is not a day written YYYY-MM-DD"),
        (["--from", DAY3, "--to", DAY1, "--format", "jsonl"], f"the range ends ({DAY1}) before it begins ({DAY3})"),
        (["--from", DAY1, "--to", DAY3, "--format", "pdf"], "invalid choice: 'pdf'"),
        (["--from", DAY1, "--format", "jsonl"], "the following arguments are required: --to"),
        (["--from", DAY1, "--to", DAY3, "--format", "jsonl", "--channel", "nope"], "the archive holds no channel nope"),
    ],
)
async def test_bad_usage_exits_2_and_writes_nothing(
    store: Store, store_url: str, tmp_path: Path, args: list[str], says: str
) -> None:
    await archive(store, desk_records())
    status, stdout, stderr = await cli(store_url, *args, "--out", str(tmp_path / "out"))
    assert (status, stdout) == (2, "") and says in stderr
    assert not (tmp_path / "out").exists()
    assert await store.audit(before=None, limit=1) == []


async def test_a_directory_with_files_in_it_is_refused(store: Store, store_url: str, tmp_path: Path) -> None:
    await archive(store, desk_records())
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    status, _, stderr = await cli(
        store_url, "--from", DAY1, "--to", DAY3, "--format", "jsonl", "--out", str(tmp_path / "out")
    )
    assert status == 2 and "is not an empty directory" in stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["notes.txt"]


async def test_a_failed_export_exits_1_and_leaves_nothing(
    store: Store, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await archive(store, desk_records() + ops_records())
    (tmp_path / "out").mkdir()

    def full_disk(self: object, entry: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("core.exports.formats.JsonLines.write", full_disk)
    status, stdout, stderr = await cli(
        store_url, "--from", DAY1, "--to", DAY3, "--format", "jsonl", "--out", str(tmp_path / "out")
    )
    assert (status, stdout) == (1, "") and "the export failed: [Errno 28] No space left on device" in stderr
    assert list((tmp_path / "out").iterdir()) == []  # the directory stays, as it was given: empty
    assert [e.action for e in await store.audit(before=None, limit=5)] == ["export.requested"]
