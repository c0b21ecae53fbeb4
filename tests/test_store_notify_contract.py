"""The Store contract of #22, run against SQLite and MongoDB through the `store` fixture: search (following
edits and deletes), read marks, unread and mention counts, notifications and notification preferences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from core.errors import ChatError
from core.models import Message, Notification, NotificationKind, NotifyPrefs, new_id, now_iso
from core.store import Store
from core.store.sqlite_search import CHANNEL_TERMS_MAX
from core.textscan import words
from tests.test_store_contract import change

DESK = ["desk"]


def post(seq: int, text: str, user: str = "alice", channel: str = "desk") -> Message:
    return Message(id=new_id(), channel=channel, seq=seq, rev=seq, user=user, text=text, ts=now_iso())


async def search(
    store: Store,
    q: str = "",
    *,
    cashtags: Sequence[str] = (),
    channels: Sequence[str] = DESK,
    user: str | None = None,
    before: str | None = None,
    limit: int = 20,
) -> tuple[list[str], str | None]:
    """The texts of the hits (q's words folded as the server folds them) and the next page's cursor."""
    hits, next_before = await store.search(
        words=words(q), cashtags=cashtags, channels=channels, user=user, before=before, limit=limit
    )
    return [hit.text for hit in hits], next_before


async def texts(store: Store, q: str = "", **given: Any) -> list[str]:
    found, _ = await search(store, q, **given)
    return found


# --- search ---


async def test_search_matches_whole_words_all_of_them_newest_first(store: Store) -> None:
    await store.save_messages(
        [
            post(1, "Buying AAPL calls today"),
            post(2, "buy the dip"),
            post(3, "AAPL puts, not calls"),
            post(4, "nothing to see"),
        ]
    )
    assert await texts(store, "aapl") == ["AAPL puts, not calls", "Buying AAPL calls today"]
    assert await texts(store, "calls AAPL") == ["AAPL puts, not calls", "Buying AAPL calls today"]
    assert await texts(store, "buying calls") == ["Buying AAPL calls today"]
    assert await texts(store, "buying puts") == []
    assert await texts(store, "buy") == ["buy the dip"]  # not "Buying": whole words only
    assert await texts(store, "cal") == []
    assert await texts(store, "elsewhere") == []


async def test_search_ignores_letter_case_accents_and_apostrophes(store: Store) -> None:
    await store.save_messages([post(1, "Café CRÈME at Zürich"), post(2, "Don't chase it"), post(3, "Cafe")])
    assert await texts(store, "cafe") == ["Cafe", "Café CRÈME at Zürich"]
    assert await texts(store, "CAFÉ crème") == ["Café CRÈME at Zürich"]
    assert await texts(store, "zurich") == ["Café CRÈME at Zürich"]
    assert await texts(store, "dont") == ["Don't chase it"]
    assert await texts(store, "DON\u2019T") == ["Don't chase it"]


async def test_search_by_cashtag_matches_the_tag_and_not_the_bare_word(store: Store) -> None:
    await store.save_messages(
        [post(1, "$TSLA to the moon"), post(2, "tsla without a tag"), post(3, "$tsla and $AAPL.US"), post(4, "$5")]
    )
    assert await texts(store, cashtags=["TSLA"]) == ["$tsla and $AAPL.US", "$TSLA to the moon"]
    assert await texts(store, cashtags=["$tsla"]) == ["$tsla and $AAPL.US", "$TSLA to the moon"]
    assert await texts(store, cashtags=["TSLA", "AAPL.US"]) == ["$tsla and $AAPL.US"]
    assert await texts(store, cashtags=["AAPL"]) == []
    assert await texts(store, "moon", cashtags=["TSLA"]) == ["$TSLA to the moon"]
    # the word matches the text, tag or not
    assert await texts(store, "tsla") == ["$tsla and $AAPL.US", "tsla without a tag", "$TSLA to the moon"]


async def test_search_by_author_in_any_letter_case(store: Store) -> None:
    await store.save_messages(
        [post(1, "long AAPL", user="Bob"), post(2, "long TSLA", user="alice"), post(3, "short AAPL", user="bob")]
    )
    assert await texts(store, user="BOB") == ["short AAPL", "long AAPL"]
    assert await texts(store, "long", user="bob") == ["long AAPL"]
    assert await texts(store, user="carol") == []
    # a word that is also someone's name finds the word, not the author
    assert await texts(store, "bob") == []


async def test_search_stays_within_the_readable_channels(store: Store) -> None:
    await store.save_messages([post(1, "AAPL in desk"), post(2, "AAPL more in desk")])
    await store.save_messages([post(1, "AAPL in secret", channel="secret"), post(1, "AAPL ops", channel="ops")])
    assert await texts(store, "aapl", channels=["desk"]) == ["AAPL more in desk", "AAPL in desk"]
    assert await texts(store, "aapl", channels=["desk", "ops"]) == ["AAPL ops", "AAPL more in desk", "AAPL in desk"]
    assert await texts(store, "aapl", channels=[]) == []
    assert await texts(store, "aapl", channels=["nowhere"]) == []
    # a reader of many channels (the SQLite index filters them row by row past CHANNEL_TERMS_MAX)
    many = [f"room-{n}" for n in range(CHANNEL_TERMS_MAX + 6)]
    assert await texts(store, "aapl", channels=[*many, "ops", "desk"]) == [
        "AAPL ops", "AAPL more in desk", "AAPL in desk",
    ]  # fmt: skip
    assert await texts(store, "aapl", channels=many) == []
    assert await texts(store, user="alice", channels=[*many, "secret"]) == ["AAPL in secret"]


async def test_search_pages_newest_first_with_next_before(store: Store) -> None:
    await store.save_messages([post(seq, f"rates note {seq}") for seq in range(1, 26)])
    await store.save_messages([post(26, "something else")])
    pages, before = [], None
    while True:
        found, before = await search(store, "rates", limit=10, before=before)
        pages.append([int(text.split()[-1]) for text in found])
        if before is None:
            break
        assert isinstance(before, str)
    assert pages == [list(range(25, 15, -1)), list(range(15, 5, -1)), list(range(5, 0, -1))]
    # a last page that is full says there is no more only when nothing follows
    found, before = await search(store, "rates", limit=25)
    assert len(found) == 25 and before is None
    found, before = await search(store, "rates", limit=24)
    assert len(found) == 24 and before is not None
    assert await search(store, "rates", limit=10, before=before) == (["rates note 1"], None)


async def test_search_follows_edits(store: Store) -> None:
    first, second = post(1, "AAPL looks strong $AAPL"), post(2, "AAPL and more")
    await store.save_messages([first, second])
    edit = change(3, "edit", first, text="TSLA looks weak $TSLA")
    await store.apply_changes([edit])
    assert await texts(store, "aapl") == ["AAPL and more"]
    assert await texts(store, "strong") == []
    assert await texts(store, cashtags=["AAPL"]) == []
    assert await texts(store, "weak tsla") == ["TSLA looks weak $TSLA"]
    assert await texts(store, cashtags=["TSLA"]) == ["TSLA looks weak $TSLA"]
    # a reaction changes no word; the hit is the message as it is now
    react = change(4, "react", edit.message, by="bob", emoji="🐂")
    await store.apply_changes([react])
    hits, _ = await store.search(words=["weak"], cashtags=[], channels=DESK, user=None, before=None, limit=5)
    assert hits == [react.message]


async def test_search_follows_changes_that_arrive_out_of_order(store: Store) -> None:
    first = post(1, "old words")
    edit = change(2, "edit", first, text="new words")
    react = change(3, "react", edit.message, by="bob", emoji="🐂")  # carries the edited text
    await store.save_messages([first])
    await store.apply_changes([react])
    await store.apply_changes([edit])  # older than the stored message: logged only
    assert await texts(store, "new") == ["new words"]
    assert await texts(store, "old") == []
    # a change archived before its message: the message is found as the change left it
    late = post(4, "posted text")
    late_edit = change(5, "edit", late, text="edited text")
    await store.apply_changes([late_edit])
    await store.save_messages([late])
    assert await texts(store, "text") == ["edited text"]
    assert await texts(store, "posted") == []


async def test_deleted_messages_never_match(store: Store) -> None:
    kept, gone = post(1, "AAPL $AAPL kept", user="bob"), post(2, "AAPL $AAPL gone", user="bob")
    await store.save_messages([kept, gone])
    await store.apply_changes([change(3, "delete", gone, by="bob")])
    assert await texts(store, "aapl") == ["AAPL $AAPL kept"]
    assert await texts(store, cashtags=["AAPL"]) == ["AAPL $AAPL kept"]
    assert await texts(store, user="bob") == ["AAPL $AAPL kept"]
    assert await texts(store, "gone") == []
    # deleted before its message was archived, or edited then deleted
    early = post(4, "AAPL early")
    await store.apply_changes([change(5, "delete", early)])
    await store.save_messages([early])
    sixth = post(6, "AAPL edited")
    await store.save_messages([sixth])
    edit = change(7, "edit", sixth, text="AAPL edited twice")
    await store.apply_changes([edit, change(8, "delete", edit.message)])
    assert await texts(store, "aapl") == ["AAPL $AAPL kept"]


async def test_saving_a_message_twice_indexes_it_once(store: Store) -> None:
    first = post(1, "once only")
    await store.save_messages([first])
    await store.save_messages([first, post(2, "once more")])
    assert await texts(store, "once") == ["once more", "once only"]


async def test_hits_carry_their_reply_counts(store: Store) -> None:
    root = post(1, "AAPL thread")
    reply = post(2, "AAPL reply").model_copy(update={"reply_to": root.id})
    other = post(1, "AAPL elsewhere", channel="ops")
    await store.save_messages([root, reply, other])
    hits, _ = await store.search(words=["aapl"], cashtags=[], channels=["desk", "ops"], user=None, before=None, limit=5)
    assert [(m.text, m.reply_count, m.reply_to) for m in hits] == [
        ("AAPL elsewhere", None, None), ("AAPL reply", None, root.id), ("AAPL thread", 1, None),
    ]  # fmt: skip


async def test_a_word_too_long_to_be_indexed_matches_nothing(store: Store) -> None:
    await store.save_messages([post(1, "x" * 41 + " short")])
    assert await texts(store, "short") == ["x" * 41 + " short"]
    hits, _ = await store.search(words=["x" * 41], cashtags=[], channels=DESK, user=None, before=None, limit=5)
    assert hits == []


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
async def test_a_cursor_the_search_never_gave_out_is_refused(store: Store) -> None:
    for before in ("abc", "-1", "1e3", "9" * 30, ""):
        with pytest.raises(ChatError) as caught:
            await search(store, "x", before=before)
        assert caught.value.code == "invalid_parameter"


# --- read marks and counts ---


async def test_read_marks_only_move_forward_in_any_letter_case(store: Store) -> None:
    assert await store.read_marks("bob") == {}
    assert await store.mark_read("Bob", "desk", 5) == 5
    assert await store.mark_read("bob", "desk", 3) == 5  # a device that read less never moves it back
    assert await store.mark_read("BOB", "desk", 9) == 9
    assert await store.mark_read("bob", "ops", 1) == 1
    assert await store.read_marks("bOb") == {"desk": 9, "ops": 1}
    assert await store.mark_read("carol", "desk", 2) == 2
    assert await store.readers("desk") == ["Bob", "carol"]  # as first written, by name without regard to case
    assert await store.readers("ops") == ["bob"]
    assert await store.readers("nowhere") == []


async def test_many_read_marks_move_in_one_write_forward_only(store: Store) -> None:
    await store.mark_read("bob", "desk", 5)
    await store.mark_read_many([("Bob", "desk", 3), ("bob", "ops", 4), ("carol", "desk", 7)])
    await store.mark_read_many([])
    assert await store.read_marks("BOB") == {"desk": 5, "ops": 4}
    assert await store.read_marks("carol") == {"desk": 7}


async def test_unread_counts_others_messages_after_the_mark_not_deleted_up_to_the_cap(store: Store) -> None:
    desk = [post(seq, f"m{seq}", user="bob" if seq % 2 else "Alice") for seq in range(1, 11)]
    await store.save_messages(desk)
    await store.save_messages([post(seq, f"o{seq}", user="bob", channel="ops") for seq in range(1, 6)])
    await store.apply_changes([change(11, "delete", desk[8], by="bob")])  # seq 9, bob's
    # desk: bob wrote 1, 3, 5, 7, 9 (deleted); after 2 that leaves 3, 5, 7
    marks = {"desk": 2, "ops": 3, "empty": 0}
    assert await store.unread_counts("ALICE", marks, cap=100) == {"desk": 3, "ops": 2, "empty": 0}
    assert await store.unread_counts("alice", marks, cap=2) == {"desk": 2, "ops": 2, "empty": 0}
    assert await store.unread_counts("bob", {"desk": 0}, cap=100) == {"desk": 5}
    assert await store.unread_counts("alice", {}, cap=100) == {}


def notice(user: str, key: str, *, kind: NotificationKind = "mention", channel: str | None = "desk", seq: int = 1,
           n: int = 0) -> Notification:  # fmt: skip
    """A notification whose id orders it by `n` (ids grow with time)."""
    return Notification(
        id=f"{n:012x}{key[-12:]:>012}", user=user, key=key, kind=kind, text=f"{kind} {key}",
        ts=now_iso(), channel=channel, seq=seq,
    )  # fmt: skip


async def test_mention_counts_are_the_users_mentions_after_the_mark(store: Store) -> None:
    await store.save_notifications(
        [
            notice("Bob", "k1", seq=3, n=1),
            notice("bob", "k2", seq=7, n=2),
            notice("bob", "k3", kind="keyword", seq=8, n=3),
            notice("bob", "k4", channel="ops", seq=2, n=4),
            notice("carol", "k2", seq=7, n=5),
        ]
    )
    assert await store.mention_counts("BOB", {"desk": 0, "ops": 0, "empty": 0}) == {"desk": 2, "ops": 1}
    assert await store.mention_counts("bob", {"desk": 3, "ops": 2}) == {"desk": 1}
    assert await store.mention_counts("carol", {"desk": 0}) == {"desk": 1}
    assert await store.mention_counts("bob", {}) == {}


# --- notifications ---


async def test_notifications_are_saved_once_per_user_and_key(store: Store) -> None:
    first = [notice("Bob", "m1", n=1), notice("carol", "m1", n=2)]
    assert await store.save_notifications(first) == first
    retried = [notice("bob", "m1", n=3), notice("carol", "m1", n=4), notice("bob", "m2", n=5)]
    assert await store.save_notifications(retried) == [retried[2]]  # the retry notifies nobody twice
    assert await store.save_notifications(first) == []
    assert await store.save_notifications([]) == []
    assert [n.key for n in await store.notifications("BOB", before=None, limit=10)] == ["m2", "m1"]


async def test_the_inbox_pages_newest_first_by_id(store: Store) -> None:
    saved = [notice("bob", f"key-{n:02d}", n=n) for n in range(1, 8)]
    await store.save_notifications(saved[3:] + saved[:3])
    await store.save_notifications([notice("carol", "key-99", n=99)])
    page = await store.notifications("bob", before=None, limit=3)
    assert page == saved[:3:-1]
    page = await store.notifications("Bob", before=page[-1].id, limit=3)
    assert page == saved[3:0:-1]
    assert await store.notifications("bob", before=page[-1].id, limit=3) == saved[:1]
    assert await store.notifications("bob", before=saved[0].id, limit=3) == []
    assert await store.notifications("nobody", before=None, limit=3) == []


async def test_notifications_keep_their_message(store: Store) -> None:
    message = post(4, "hey @bob $TSLA", user="alice")
    sent = notice("bob", message.id, seq=4, n=1).model_copy(update={"message": message, "text": "alice: hey"})
    alert = notice("bob", "alert-1", kind="alert", channel=None, n=2).model_copy(update={"seq": None})
    await store.save_notifications([sent, alert])
    assert await store.notifications("bob", before=None, limit=5) == [alert, sent]


async def test_dropping_a_key_removes_everyones_notification_of_it(store: Store) -> None:
    await store.save_notifications(
        [notice("bob", "gone", n=1), notice("carol", "gone", n=2), notice("bob", "kept", n=3)]
    )
    assert await store.drop_notifications("gone") == 2
    assert await store.drop_notifications("gone") == 0
    assert [n.key for n in await store.notifications("bob", before=None, limit=5)] == ["kept"]
    assert await store.notifications("carol", before=None, limit=5) == []
    assert await store.mention_counts("bob", {"desk": 0}) == {"desk": 1}
    # dropped, the key may notify again (a message is never re-posted, but an alert key may come back)
    assert len(await store.save_notifications([notice("bob", "gone", n=4)])) == 1


# --- notification preferences ---


async def test_notify_prefs_round_trip_in_any_letter_case(store: Store) -> None:
    assert await store.get_notify_prefs("bob") is None
    prefs = NotifyPrefs(keywords=["rate cut", "fomc"], cashtags=["TSLA"], channels={"desk": "all", "ops": "none"})
    await store.set_notify_prefs("Bob", prefs, "2026-06-01T00:00:00.000Z")
    assert await store.get_notify_prefs("BOB") == prefs
    await store.set_notify_prefs("bob", NotifyPrefs(), "2026-06-01T00:01:00.000Z")
    assert await store.get_notify_prefs("bob") == NotifyPrefs()


async def test_notify_prefs_since_lists_the_changes_after_a_time_oldest_first(store: Store) -> None:
    bob = NotifyPrefs(keywords=["fomc"])
    carol = NotifyPrefs(cashtags=["AAPL"])
    await store.set_notify_prefs("bob", bob, "2026-06-01T00:00:02.000Z")
    await store.set_notify_prefs("carol", carol, "2026-06-01T00:00:01.000Z")
    await store.set_notify_prefs("dave", NotifyPrefs(), "2026-06-01T00:00:00.000Z")
    assert await store.notify_prefs_since("2026-06-01T00:00:00.000Z") == [
        ("carol", carol, "2026-06-01T00:00:01.000Z"), ("bob", bob, "2026-06-01T00:00:02.000Z"),
    ]  # fmt: skip
    assert await store.notify_prefs_since("2026-06-01T00:00:02.000Z") == []
    changed = NotifyPrefs(keywords=["cpi"], channels={"desk": "mentions"})
    await store.set_notify_prefs("Carol", changed, "2026-06-01T00:00:03.000Z")
    since = await store.notify_prefs_since("2026-06-01T00:00:02.000Z")
    assert [(user.lower(), prefs, at) for user, prefs, at in since] == [("carol", changed, "2026-06-01T00:00:03.000Z")]
