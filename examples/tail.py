#!/usr/bin/env python3
"""Stream a channel to the terminal, edits, deletes, reactions and pins too, and who was added, removed,
muted or banned and what settings changed; after a reconnect (or a gap in seq) catch up with
`join {channel, after}`.

The same as `investor-chat tail`. The catching up is chatkit/tail.py's `follow`, which hands each
message to a function of yours once, in seq order, each change to a message after it (a dict with
`message` and `kind`: edit, delete, react, unreact, pin, unpin; `update` for changes learnt folded from a
catch-up) and each channel event at its seq (a dict with `kind` and no `message`: member_added, muted,
settings_changed, ...): printing here (`[12] alice edited #3: new text`, `[13] alice deleted #3`,
`[14] bob muted carol until 14:05 (spam)`), anything in your own script. With --notifications (or with
no channel at all) it also prints the user's notifications from every channel, one line each
(`14:05:03 mention #desk: alice mentioned you in #desk: buy $TSLA`), those that came while it was away
fetched from the inbox after a reconnect (chatkit/notifications.py).
"""

from __future__ import annotations

import sys

import chatkit
from chatkit import tail


def main() -> None:
    p = chatkit.parser("Stream a channel's messages (and/or your notifications) to the terminal.")
    tail.add_arguments(p)  # [CHANNEL] [--after SEQ] [--notifications] [--json] [--reconnect-delay SECONDS]
    args = p.parse_args()
    tail.check(args, p)
    chatkit.setup(args, p)
    sys.exit(chatkit.run("tail", tail.run(args)))


if __name__ == "__main__":
    main()
