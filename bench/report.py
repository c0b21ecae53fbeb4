"""bench/run.py's summary tables: the ladders' (against Node) and the channel-changes step's."""

from __future__ import annotations

import os
from typing import Any

from bench.ladder import P99_MS, Result, Shape


def fmt(v: float | None, spec: str = ".0f") -> str:
    return "-" if v is None else format(v, spec)


def header(clients: int, shapes: list[Shape], limits: dict[int, tuple[int, int]], quick: bool) -> str:
    per_shape = "; ".join(
        f"rooms of {clients // s.rooms}: {s.senders} senders, send limit {limits[s.rooms][0]}/s per user "
        f"(burst {limits[s.rooms][1]})"
        for s in shapes
    )
    return (
        f"**investor-chat vs Node socket.io**: {clients} clients ({per_shape}), 32 B payload, {os.cpu_count()} "
        f"CPUs, one run ({'quick' if quick else 'full'}); us/deliv is the server processes' CPU; Redis's and the "
        "archiver's are the column beside it (Node's adapter: Redis only)"
    )


def table(results: list[Result]) -> str:
    """One row per target and shape; "rate / Node" compares one process with Node x1, two with Node x2."""
    ref = {(r.target.split(" ")[2] if r.target.startswith("Node") else "", r.shape): r for r in results}
    lines = [
        f"| shape | server | max deliv/s (p99 <= {P99_MS:g} ms, 0 lost) | sends/s | p50 ms | p99 ms "
        "| server CPU us/deliv | Redis + archiver CPU % | RSS kB/client | rate / Node | memory / Node "
        "| first failing step |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        best = r.best
        node = None
        if not r.target.startswith("Node"):
            procs = "x2" if "2 nodes" in r.target else "x1"
            node = ref.get((procs, r.shape))
        rate_ratio = mem_ratio = None
        if node is not None:
            rate_ratio = r.max_rate / node.max_rate if node.max_rate else None
            if r.rss_kb_per_client and node.rss_kb_per_client:
                mem_ratio = r.rss_kb_per_client / node.rss_kb_per_client
        lines.append(
            f"| {r.shape} | {r.target} | {r.max_rate:.0f} | {fmt(best['rate'] if best else None)} "
            f"| {fmt(best['lat_p50_ms'] if best else None, '.2f')} "
            f"| {fmt(best['lat_p99_ms'] if best else None, '.2f')} "
            f"| {fmt(Result.us_per_delivery(best) if best else None, '.1f')} "
            f"| {fmt(Result.helpers_cpu_pct(best) if best else None)} | {fmt(r.rss_kb_per_client, '.1f')} "
            f"| {fmt(rate_ratio, '.2f')} | {fmt(mem_ratio, '.2f')} | {r.first_failure} |"
        )
    return "\n".join(lines)


def changes_verdict(row: dict[str, Any]) -> str:
    why = []
    for mode in ("plain", "changes"):
        step = row[mode]
        if step is None or not Result.passed(step):
            why.append(f"{mode} step failed")
    comp = row["companion"]
    if comp is None:
        why.append("no companion result")
    else:
        if comp["lost"]:
            why.append(f"{comp['lost']} changes lost")
        if comp["refused"]:
            why.append(f"refused {comp['refused']}")
        if comp["lat_p99_ms"] is None or comp["lat_p99_ms"] > P99_MS:
            why.append(f"change p99 {fmt(comp['lat_p99_ms'])} ms")
    return ", ".join(why) or "ok"


def changes_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| shape | server | sends/s | plain deliv/s | plain p99 ms | plain server CPU % | with changes: message "
        "deliv/s | p99 ms | server CPU % | changes/s | change deliv/s (offered) | change p50 ms | change p99 ms "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        plain, mixed, comp = row["plain"] or {}, row["changes"] or {}, row["companion"] or {}
        changes_ps = comp.get("changes_ps")
        offered = changes_ps * (row["room"] + 1) if changes_ps is not None else None  # +1: the companion member
        lines.append(
            f"| {row['shape']} | {row['target']} | {row['rate']} | {fmt(plain.get('delivered_ps'))} "
            f"| {fmt(plain.get('lat_p99_ms'), '.2f')} | {fmt(plain.get('server_cpu_pct_sum'))} "
            f"| {fmt(mixed.get('delivered_ps'))} | {fmt(mixed.get('lat_p99_ms'), '.2f')} "
            f"| {fmt(mixed.get('server_cpu_pct_sum'))} | {fmt(changes_ps, '.1f')} | {fmt(offered)} "
            f"| {fmt(comp.get('lat_p50_ms'), '.2f')} | {fmt(comp.get('lat_p99_ms'), '.2f')} "
            f"| {changes_verdict(row)} |"
        )
    return "\n".join(lines)
