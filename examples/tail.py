#!/usr/bin/env python3
"""Stream a channel to the terminal; after a reconnect (or a gap in seq) catch up with `join {channel, after}`.

The same as `investor-chat tail`. The catching up is chatkit/tail.py's `follow`, which hands each
message to a function of yours once, in seq order: printing here, anything in your own script.
"""

from __future__ import annotations

import sys

import chatkit
from chatkit import tail


def main() -> None:
    p = chatkit.parser("Stream a channel's messages to the terminal.")
    tail.add_arguments(p)  # CHANNEL [--after SEQ] [--json] [--reconnect-delay SECONDS]
    args = p.parse_args()
    chatkit.setup(args, p)
    sys.exit(chatkit.run("tail", tail.run(args)))


if __name__ == "__main__":
    main()
