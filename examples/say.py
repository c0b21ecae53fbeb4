#!/usr/bin/env python3
"""Post one message to a channel and print the server's acknowledgement as JSON (exit 1 on an error ack).

The same as `investor-chat say`; chatkit/say.py shows the calls: log in, connect, join, send.
"""

from __future__ import annotations

import sys

import chatkit
from chatkit import say


def main() -> None:
    p = chatkit.parser("Post a message (or a /command) to a channel.")
    say.add_arguments(p)  # CHANNEL TEXT... [--reply-to ID]
    args = p.parse_args()
    chatkit.setup(args, p)
    sys.exit(chatkit.run("say", say.run(args)))


if __name__ == "__main__":
    main()
