"""Investor tools' arithmetic and commands: exact prices in the instrument's currency, returns as the side earns,
alerts and ideas read from what users type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.commands import parse_command
from core.errors import ChatError
from core.models import keyed_id
from core.trading import (
    Alert,
    Idea,
    alert_crossed,
    alert_distance,
    closed,
    idea_outcome,
    parse_amount,
    return_pct,
    scorecard,
)
from investing.alerts import describe, fired_text
from investing.ideas import card_text, closed_text
from investing.watchlists import normalized, watched

T0 = "2026-12-01T15:00:00.000Z"
T1 = "2026-12-03T15:00:00.000Z"


def idea(side: str = "long", symbol: str = "AAPL.US", currency: str = "USD", entry: str = "93.42", **more: str) -> Idea:
    return Idea.model_validate(
        {"id": "i1", "author": "alice", "channel": "general", "side": side, "symbol": symbol,
         "currency": currency, "entry": entry, "opened_at": T0, "expires_at": T1, **more}
    )  # fmt: skip


def alert(op: str, value: str, created: str = "100", symbol: str = "AAPL.US", currency: str = "USD") -> Alert:
    return Alert.model_validate(
        {"id": "a1", "user": "alice", "symbol": symbol, "op": op, "value": value, "created_price": created,
         "currency": currency, "created_at": T0, "expires_at": T1}
    )  # fmt: skip


# -- amounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "exact"),
    [("200", "200"), ("187.5", "187.5"), ("$1,234.50", "1234.50"), ("5%", "5"), ("0.00001234", "0.00001234")],
)
def test_amounts_are_read_exactly_as_typed(typed: str, exact: str) -> None:
    assert str(parse_amount(typed, "The price")) == exact


@pytest.mark.parametrize("typed", ["0", "-3", "1e5", "abc", "1.123456789", "12,34", "NaN", "inf", ""])
def test_an_amount_that_is_not_a_positive_price_is_refused_with_what_is_wrong(typed: str) -> None:
    with pytest.raises(ChatError) as refused:
        parse_amount(typed, "The target")
    assert refused.value.code == "invalid_amount"
    assert refused.value.message.startswith("The target must be")


# -- returns -------------------------------------------------------------------------------------


def test_a_long_earns_as_the_price_rises_and_a_short_as_it_falls() -> None:
    assert return_pct("long", Decimal("100"), Decimal("107.5")) == Decimal("7.50")
    assert return_pct("short", Decimal("100"), Decimal("107.5")) == Decimal("-7.50")
    assert return_pct("short", Decimal("100"), Decimal("90")) == Decimal("10.00")


def test_returns_round_half_up_and_never_through_floats() -> None:
    # 0.1 + 0.2 in floats is 0.30000000000000004; entry 0.3, exit 0.1 + 0.2 must be exactly 0 %
    assert return_pct("long", Decimal("0.3"), Decimal("0.1") + Decimal("0.2")) == Decimal("0.00")
    assert return_pct("long", Decimal("8"), Decimal("8.21")) == Decimal("2.63")  # 2.625 rounds up


def test_a_london_share_idea_stays_in_pence() -> None:
    short = idea("short", "VOD.UK", "GBX", "72.50", target="65", stop="80")
    done = closed(short, "target_hit", Decimal("64.90"), T1)
    assert (done.exit, done.return_pct) == ("64.90", "10.48")
    assert card_text(done).endswith("target hit at 64.90 GBX (+10.48%)")
    assert closed_text(done) == "Your short VOD.UK idea: target hit at 64.90 GBX (+10.48%)"


def test_an_index_idea_is_in_points_and_a_crypto_one_keeps_every_place() -> None:
    index = closed(idea("short", "^SPX", "USD", "5123.40", stop="5200"), "stopped", Decimal("5201.15"), T1)
    assert (index.return_pct, card_text(index).split(" · ")[1]) == ("-1.52", "stopped out at 5,201.15 points (-1.52%)")
    coin = closed(idea("long", "BTC-USD", "USD", "64000.12"), "expired", Decimal("64001.12345678"), T1)
    assert coin.exit == "64001.12345678"
    assert coin.return_pct == "0.00"
    assert "$64,001.12345678" in card_text(coin)


def test_an_idea_closes_at_its_target_or_its_stop_on_the_right_side() -> None:
    long = idea(target="100", stop="90")
    assert [idea_outcome(long, Decimal(p)) for p in ("99.99", "100", "90", "89")] == [
        None, "target_hit", "stopped", "stopped"
    ]  # fmt: skip
    short = idea("short", target="90", stop="100")
    assert [idea_outcome(short, Decimal(p)) for p in ("95", "90", "100.01")] == [None, "target_hit", "stopped"]
    assert idea_outcome(idea(), Decimal("1000")) is None  # neither target nor stop: only expiry closes it


def test_a_scorecard_counts_closed_ideas_only() -> None:
    ideas = [
        closed(idea(target="100"), "target_hit", Decimal("100"), T1),  # +7.04
        closed(idea(stop="90"), "stopped", Decimal("90"), T1),  # -3.66
        closed(idea("short"), "expired", Decimal("93.42"), T1),  # 0.00
        idea(),
    ]
    card = scorecard(ideas)
    assert (card.ideas, card.closed, card.hit_rate, card.avg_return_pct) == (4, 3, 0.3333, "1.13")
    empty = scorecard([idea()])
    assert (empty.closed, empty.hit_rate, empty.avg_return_pct) == (0, None, None)


# -- alerts --------------------------------------------------------------------------------------


def test_alerts_fire_at_their_level_or_on_a_move_either_way() -> None:
    assert [alert_crossed(alert("above", "200"), Decimal(p)) for p in ("199.99", "200", "250")] == [False, True, True]
    assert [alert_crossed(alert("below", "90"), Decimal(p)) for p in ("90.01", "90")] == [False, True]
    move = alert("move_pct", "5", created="100")
    assert [alert_crossed(move, Decimal(p)) for p in ("104.99", "105", "95", "96")] == [False, True, True, False]


def test_the_nearest_alert_is_the_one_closest_to_firing() -> None:
    near, far = alert("above", "101"), alert("above", "150")
    assert alert_distance(near, Decimal("100")) < alert_distance(far, Decimal("100"))
    assert alert_distance(alert("move_pct", "5"), Decimal("104")) == Decimal("0.01")
    assert alert_distance(near, Decimal("102")) == 0


def test_an_alert_is_worded_in_its_instruments_units() -> None:
    fired = alert("below", "65", "72.50", "VOD.UK", "GBX").model_copy(update={"triggered_price": "64.9"})
    assert fired_text(fired) == "Alert: VOD.UK below 65.00 GBX, now 64.90 GBX"
    assert describe(alert("move_pct", "5", "5123.40", "^SPX")) == "^SPX moves 5% from 5,123.40 points"


# -- commands ------------------------------------------------------------------------------------


def test_alert_and_idea_commands_read_as_traders_write_them() -> None:
    above = parse_command("/alert aapl above $200").alert
    assert above is not None and (above.symbol, above.op, above.value, above.days) == ("aapl", "above", 200, None)
    move = parse_command("/ALERT vod.uk move 5% days 3").alert
    assert move is not None and (move.op, move.value, move.days) == ("move_pct", 5, 3)
    short = parse_command("/idea short ^spx stop 5300 target 5000 days 10").idea
    assert short is not None and (short.side, short.target, short.stop, short.days) == ("short", 5000, 5300, 10)
    watch = parse_command("/watch aapl, msft vod.uk")
    assert (watch.name, watch.args) == ("watch", ("aapl", "msft", "vod.uk"))


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("/alert aapl", "unknown_command"),
        ("/alert aapl sideways 3", "unknown_command"),
        ("/alert aapl above zero", "invalid_amount"),
        ("/alert aapl move 5000%", "invalid_amount"),
        ("/alert aapl above 200 days 400", "invalid_amount"),
        ("/idea long", "unknown_command"),
        ("/idea sideways aapl", "unknown_command"),
        ("/idea long aapl target 200 target 210", "unknown_command"),
        ("/idea long aapl days 91", "invalid_amount"),
        ("/watch", "unknown_command"),
    ],
)
def test_a_malformed_command_is_refused_with_a_hint(typed: str, code: str) -> None:
    with pytest.raises(ChatError) as refused:
        parse_command(typed)
    assert refused.value.code == code


def test_a_watchlist_holds_each_code_once_as_stock_codes_are_named() -> None:
    assert normalized(["aapl", "AAPL.US", "vod.l", "^gspc"]) == ["AAPL.US", "VOD.UK", "^SPX"]
    assert watched(["AAPL.US"], add=["msft", "aapl"], remove=["aapl.us"]) == ["MSFT.US"]
    with pytest.raises(ChatError) as full:
        watched([f"T{n}.US" for n in range(50)], add=["aapl"])
    assert full.value.code == "watchlist_full"


def test_a_notification_made_again_after_a_crash_has_the_same_id() -> None:
    first, again = keyed_id(T1, "alert:a1"), keyed_id(T1, "alert:a1")
    assert first == again and len(first) == 24
    assert keyed_id(T1, "alert:a2") != first
    assert keyed_id(T0, "alert:zz") < keyed_id(T1, "alert:aa")  # ordered by time, like every inbox id
