"""`investor-chat tail [CHANNEL] [--notifications]` and `investor-chat say CHANNEL TEXT`: the chat from a shell,
no server settings."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import chatkit
from chatkit import say, tail

MODES = {"tail": tail, "say": say}


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(prog="investor-chat", description="Talk to a running investor-chat server.")
    modes = parser.add_subparsers(dest="mode", required=True)
    helps = {
        "tail": "stream a channel, its changes and its member and moderation events, catching up after reconnects, "
        "and with --notifications (or alone) the user's notifications",
        "say": "post a message and print its ack",
    }
    for name, module in MODES.items():
        mode = modes.add_parser(name, parents=[chatkit.connection_flags()], help=helps[name])
        module.add_arguments(mode)
    args = parser.parse_args(argv)
    if args.mode == "tail":
        tail.check(args, modes.choices["tail"])
    return args, parser


def main(argv: Sequence[str]) -> int:
    """Run a client mode; the exit status: 0 done, 1 refused by the server or unreachable, 2 bad flags."""
    args, parser = parse_args(argv)
    chatkit.setup(args, parser)
    return chatkit.run(f"investor-chat {args.mode}", MODES[args.mode].run(args))
