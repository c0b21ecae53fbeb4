"""`investor-chat admin`: site roles, invites and suspensions from the server's machine, straight on the
configured store, whether the server runs or not (how the first admin is made)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

from core.errors import ChatError
from core.settings import Settings, SettingsError, read_settings
from core.store import Store, open_store
from server import admin
from server.realtime import SESSION_SWEEP_SECONDS

PROG = "investor-chat admin"
FAILED, BAD_USAGE = 1, 2
USERNAME_HELP = "the account's name, in any letter case"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--storage-url", help="the store to change (CHAT_STORAGE_URL; default sqlite:///./var/investor-chat.sqlite3)"
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Site administration on the server's machine: works on the store CHAT_STORAGE_URL names, "
        "with the server running or stopped. Every change is written to the audit log (actor: the command line). "
        "Every account has the role `user`; `admin` manages invites, roles and suspensions and moderates every "
        "channel it can see; `compliance` reads every channel and the audit log and posts nothing.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, does in (("grant", "give USERNAME a site role"), ("revoke", "take a site role from USERNAME")):
        command = commands.add_parser(name, parents=[common], help=does, description=does[0].upper() + does[1:] + ".")
        command.add_argument("username", metavar="USERNAME", help=USERNAME_HELP)
        command.add_argument("role", metavar="ROLE", choices=admin.GRANTABLE, help=" or ".join(admin.GRANTABLE))
    invite = commands.add_parser(
        "invite",
        parents=[common],
        help="make an invite code (for CHAT_REGISTRATION=invite)",
        description="Make an invite code and print it alone on standard output: give it to whoever should "
        "register (`invite` in POST /api/register; the web client asks for it).",
    )
    invite.add_argument("--uses", type=_within(1, 1000), default=1, help="registrations it allows, 1-1000 (1)")
    invite.add_argument("--hours", type=_within(1, 720), default=72, help="hours until it expires, 1-720 (72)")
    suspend = commands.add_parser(
        "suspend",
        parents=[common],
        help="suspend USERNAME: sessions end, login refused",
        description="Suspend USERNAME: every REST call and socket of theirs is refused, login answers "
        f"account_suspended, and their open connections are closed by each server node within "
        f"{SESSION_SWEEP_SECONDS:.0f} seconds (at once when an admin suspends through the API).",
    )
    suspend.add_argument("username", metavar="USERNAME", help=USERNAME_HELP)
    unsuspend = commands.add_parser(
        "unsuspend", parents=[common], help="lift USERNAME's suspension", description="Lift USERNAME's suspension."
    )
    unsuspend.add_argument("username", metavar="USERNAME", help=USERNAME_HELP)
    return parser


def _within(low: int, high: int) -> Callable[[str], int]:
    def number(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low} to {high}")
        return int(text)

    return number


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 when done, 1 when it was refused (no such user), 2 for bad usage or settings."""
    args = build_parser().parse_args(argv)
    try:
        settings = read_settings(**({"storage_url": args.storage_url} if args.storage_url else {}))
    except SettingsError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return BAD_USAGE
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    where = f"the store at {settings.sqlite_path}" if settings.sqlite_path else "the MongoDB store"
    if settings.sqlite_path and not settings.sqlite_path.exists():  # a wrong directory, not a new chat
        print(
            f"{PROG}: error: no store at {settings.sqlite_path}: the server makes it on its first start; run this "
            "where the server runs, or say where with --storage-url or CHAT_STORAGE_URL",
            file=sys.stderr,
        )
        return FAILED
    try:
        store = await open_store(settings.storage_url)
    except Exception as exc:  # the process's boundary: say why in one line
        print(f"{PROG}: error: cannot open {where}: {exc}", file=sys.stderr)
        return FAILED
    try:
        print(await _command(args, store))
    except ChatError as exc:
        print(f"{PROG}: error: {exc.message} in {where}", file=sys.stderr)
        return FAILED
    finally:
        await store.close()
    return 0


async def _command(args: argparse.Namespace, store: Store) -> str:
    """Do what `args` says; the line that tells what was done."""
    if args.command in ("grant", "revoke"):
        user = await admin.set_role(store, None, args.username, args.role, granted=args.command == "grant")
        return f"{user.username}: site roles {', '.join(admin.site_roles(user.roles))}"
    if args.command == "invite":
        invite = await admin.create_invite(store, None, uses=args.uses, hours=args.hours)
        uses = "1 registration" if invite.uses_left == 1 else f"{invite.uses_left} registrations"
        print(f"invite for {uses}, until {invite.expires_at}:", file=sys.stderr)
        return invite.code
    user = await admin.set_suspended(store, None, args.username, suspended=args.command == "suspend")
    if user.suspended:
        return f"{user.username} is suspended: their sessions end and login is refused until unsuspended"
    return f"{user.username} may log in again"
