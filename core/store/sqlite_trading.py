"""Watchlists, price alerts and trade ideas of the SQLite store (#23): a part of SqliteStore, on its connection."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from typing import Literal

import aiosqlite

from core.trading import Alert, AlertStatus, Idea, IdeaStatus


def _alerts(rows: Iterable[aiosqlite.Row]) -> list[Alert]:
    return [Alert.model_validate_json(row[0]) for row in rows]


def _ideas(rows: Iterable[aiosqlite.Row]) -> list[Idea]:
    return [Idea.model_validate_json(row[0]) for row in rows]


class SqliteTrading:
    _db: aiosqlite.Connection

    async def get_watchlist(self, user: str) -> list[str]:
        rows = list(await self._db.execute_fetchall("SELECT symbols FROM watchlists WHERE username = ?", (user,)))
        return list(json.loads(rows[0][0])) if rows else []

    async def set_watchlist(self, user: str, symbols: Sequence[str]) -> None:
        await self._db.execute(
            "INSERT INTO watchlists (username, symbols) VALUES (?, ?) "
            "ON CONFLICT (username) DO UPDATE SET symbols = excluded.symbols",
            (user, json.dumps(list(symbols))),
        )
        await self._db.commit()

    async def add_alert(self, alert: Alert, *, max_active: int) -> bool:
        # One statement counts and inserts: no other writer on the connection comes between the two.
        cur = await self._db.execute(
            "INSERT OR IGNORE INTO alerts (id, username, status, created_at, data) SELECT ?, ?, ?, ?, ? "
            "WHERE (SELECT COUNT(*) FROM alerts WHERE username = ? AND status = 'active') < ?",
            (alert.id, alert.user, alert.status, alert.created_at, alert.model_dump_json(exclude_none=True),
             alert.user, max_active),
        )  # fmt: skip
        await self._db.commit()
        if cur.rowcount == 1:
            return True
        known = await self._db.execute_fetchall("SELECT 1 FROM alerts WHERE id = ?", (alert.id,))
        return bool(known)  # set before (a command handled again): added all the same

    async def alerts(self, user: str, *, status: AlertStatus | None = None, limit: int = 100) -> list[Alert]:
        where, args = ("AND status = ?", (status,)) if status is not None else ("", ())
        rows = await self._db.execute_fetchall(
            f"SELECT data FROM alerts WHERE username = ? {where} ORDER BY created_at DESC, id DESC LIMIT ?",
            (user, *args, limit),
        )
        return _alerts(rows)

    async def cancel_alert(self, user: str, alert_id: str) -> Alert | None:
        found = await self._settle("alerts", "active", alert_id, {"status": "cancelled"}, "AND username = ?", user)
        return None if found is None else Alert.model_validate_json(found)

    async def active_alerts(self) -> list[Alert]:
        rows = await self._db.execute_fetchall("SELECT data FROM alerts WHERE status = 'active' ORDER BY created_at")
        return _alerts(rows)

    async def settle_alert(
        self, alert_id: str, status: Literal["triggered", "expired"], at: str, price: str | None
    ) -> Alert | None:
        fields: dict[str, str] = {"status": status}
        if status == "triggered":
            fields["triggered_at"] = at
            if price is not None:
                fields["triggered_price"] = price
        found = await self._settle("alerts", "active", alert_id, fields)
        return None if found is None else Alert.model_validate_json(found)

    async def undelivered_alerts(self) -> list[Alert]:
        rows = await self._db.execute_fetchall(
            "SELECT data FROM alerts WHERE status = 'triggered' AND delivered = 0 ORDER BY created_at"
        )
        return _alerts(rows)

    async def mark_alert_delivered(self, alert_id: str) -> None:
        await self._db.execute("UPDATE alerts SET delivered = 1 WHERE id = ?", (alert_id,))
        await self._db.commit()

    async def save_idea(self, idea: Idea) -> bool:
        cur = await self._db.execute(
            "INSERT OR IGNORE INTO ideas (id, author, channel, status, opened_at, data) VALUES (?, ?, ?, ?, ?, ?)",
            (idea.id, idea.author, idea.channel, idea.status, idea.opened_at, idea.model_dump_json(exclude_none=True)),
        )
        await self._db.commit()
        return cur.rowcount == 1

    async def get_idea(self, idea_id: str) -> Idea | None:
        rows = _ideas(await self._db.execute_fetchall("SELECT data FROM ideas WHERE id = ?", (idea_id,)))
        return rows[0] if rows else None

    async def open_ideas(self) -> list[Idea]:
        return _ideas(
            await self._db.execute_fetchall("SELECT data FROM ideas WHERE status = 'open' ORDER BY opened_at")
        )

    async def close_idea(self, idea: Idea) -> Idea | None:
        # The closed idea's fields replace the open one's whole (author, channel and entry stay as stored: the
        # caller read them from it), in the statement that checks it is still open.
        fields = idea.model_dump(exclude_none=True, exclude={"id", "author", "channel", "opened_at"})
        found = await self._settle("ideas", "open", idea.id, fields)
        return None if found is None else Idea.model_validate_json(found)

    async def undelivered_ideas(self) -> list[Idea]:
        rows = await self._db.execute_fetchall(
            "SELECT data FROM ideas WHERE status != 'open' AND delivered = 0 ORDER BY opened_at"
        )
        return _ideas(rows)

    async def mark_idea_delivered(self, idea_id: str) -> None:
        await self._db.execute("UPDATE ideas SET delivered = 1 WHERE id = ?", (idea_id,))
        await self._db.commit()

    async def ideas_by(
        self, author: str, *, channels: Collection[str], status: IdeaStatus | None = None, limit: int = 200
    ) -> list[Idea]:
        where, args = ("AND status = ?", (status,)) if status is not None else ("", ())
        # the channels as one JSON parameter: a reader may read more of them than SQLite takes parameters
        rows = await self._db.execute_fetchall(
            "SELECT data FROM ideas WHERE author = ? AND channel IN (SELECT value FROM json_each(?)) "
            f"{where} ORDER BY opened_at DESC, id DESC LIMIT ?",
            (author, json.dumps(list(channels)), *args, limit),
        )
        return _ideas(rows)

    async def _settle(
        self, table: str, current: str, row_id: str, fields: dict[str, str], where: str = "", *args: str
    ) -> str | None:
        """Compare and set: write `fields` into the row's data (and its status) if its status is still
        `current`, in one statement, so of many callers exactly one finds it so. The data after, or None."""
        paths = [value for name, text in fields.items() for value in (f"$.{name}", text)]
        setters = ", ".join(["?, ?"] * len(fields))
        rows = list(
            await self._db.execute_fetchall(
                f"UPDATE {table} SET status = ?, data = json_set(data, {setters}) "
                f"WHERE id = ? AND status = ? {where} RETURNING data",
                (fields["status"], *paths, row_id, current, *args),
            )
        )
        await self._db.commit()
        return str(rows[0][0]) if rows else None
