"""`investor-chat admin` as an operator meets it: what it prints, its exit codes, its help, the store it finds."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.models import User, now_iso
from core.store import open_store
from server import admin_cli


def make_store(path: Path, *usernames: str) -> str:
    """A store file with these users, as the server leaves it."""
    url = f"sqlite:///{path}"

    async def fill() -> None:
        store = await open_store(url)
        for name in usernames:
            await store.create_user(User(username=name, password_hash="x", created_at=now_iso()))
        await store.close()

    asyncio.run(fill())
    return url


def audit_actions(url: str) -> list[tuple[str | None, str, str | None]]:
    async def read() -> list[tuple[str | None, str, str | None]]:
        store = await open_store(url)
        entries = await store.audit(before=None, limit=50)
        await store.close()
        return [(e.actor, e.action, e.target) for e in entries]

    return asyncio.run(read())


def test_grant_and_revoke_print_the_roles_and_audit_only_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_store(tmp_path / "chat.sqlite3", "Alice")
    assert admin_cli.main(["grant", "alice", "compliance", "--storage-url", url]) == 0
    assert admin_cli.main(["grant", "alice", "compliance", "--storage-url", url]) == 0  # already: nothing new
    assert admin_cli.main(["revoke", "alice", "admin", "--storage-url", url]) == 0  # never had it
    assert capsys.readouterr().out.splitlines() == [
        "Alice: site roles user, compliance",
        "Alice: site roles user, compliance",
        "Alice: site roles user, compliance",
    ]
    assert audit_actions(url) == [(None, "role.grant", "Alice")]


def test_an_unknown_user_or_a_wrong_directory_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_store(tmp_path / "chat.sqlite3", "alice")
    assert admin_cli.main(["suspend", "ghost", "--storage-url", url]) == 1
    err = capsys.readouterr().err
    assert err == f"investor-chat admin: error: No user named 'ghost' in the store at {tmp_path}/chat.sqlite3\n"

    missing = tmp_path / "elsewhere" / "chat.sqlite3"
    assert admin_cli.main(["grant", "alice", "admin", "--storage-url", f"sqlite:///{missing}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"investor-chat admin: error: no store at {missing}: ") and err.count("\n") == 1
    assert not missing.parent.exists()  # nothing made on the way


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["grant", "alice", "boss"], "invalid choice: 'boss'"),
        (["grant", "alice"], "the following arguments are required: ROLE"),
        (["invite", "--uses", "0"], "'0' is not a whole number from 1 to 1000"),
        (["invite", "--hours", "721"], "'721' is not a whole number from 1 to 720"),
        (["promote", "alice"], "invalid choice: 'promote'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_usage_exits_2_saying_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        admin_cli.main(argv)
    assert exit_info.value.code == 2 and words in capsys.readouterr().err


def test_invite_prints_the_code_alone_and_suspend_says_what_follows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_store(tmp_path / "chat.sqlite3", "bob")
    assert admin_cli.main(["invite", "--uses", "3", "--hours", "2", "--storage-url", url]) == 0
    out, err = capsys.readouterr()
    code = out.strip()
    assert out == code + "\n" and len(code) == 16
    assert err.startswith("invite for 3 registrations, until ")
    assert admin_cli.main(["suspend", "BOB", "--storage-url", url]) == 0
    assert admin_cli.main(["unsuspend", "bob", "--storage-url", url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "bob is suspended: their sessions end and login is refused until unsuspended",
        "bob may log in again",
    ]
    assert audit_actions(url) == [
        (None, "user.unsuspend", "bob"),
        (None, "user.suspend", "bob"),
        (None, "invite.create", None),
    ]


def test_the_command_uses_the_configured_store_and_needs_no_secret_key(tmp_path: Path) -> None:
    make_store(tmp_path / "var" / "investor-chat.sqlite3", "carol")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    # the default store, where standalone keeps it, from the directory the server runs in
    done = subprocess.run(
        [sys.executable, "-m", "server", "admin", "grant", "carol", "admin"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "carol: site roles user, admin\n", "")
    assert not (tmp_path / "var" / "secret_key").exists()
    moved = make_store(tmp_path / "data" / "chat.sqlite3", "dave")
    done = subprocess.run(
        [sys.executable, "-m", "server", "admin", "grant", "dave", "compliance"],
        env=env | {"CHAT_STORAGE_URL": moved}, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "dave: site roles user, compliance\n")
    done = subprocess.run(
        [sys.executable, "-m", "server", "admin", "grant", "dave", "admin"],
        env=env | {"CHAT_STORAGE_URL": "ftp://nowhere"}, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("investor-chat admin: error: CHAT_STORAGE_URL: ")


def test_help_names_every_command(tmp_path: Path) -> None:
    top = subprocess.run(
        [sys.executable, "-m", "server", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert "investor-chat admin --help" in top.stdout
    done = subprocess.run(
        [sys.executable, "-m", "server", "admin", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for command in ("grant", "revoke", "invite", "suspend", "unsuspend", "CHAT_STORAGE_URL", "compliance"):
        assert command in done.stdout
