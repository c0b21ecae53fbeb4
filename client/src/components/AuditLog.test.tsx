// @vitest-environment jsdom
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../testing/fakeFetch";
import { AuditLog } from "./AuditLog";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const TS = "2026-03-02T14:00:00Z";
const ENTRIES = [
  { id: "e6", ts: TS, actor: null, action: "retention.run", details: { channels: 2, held_channels: 0, redacted: 1200, held: 0, by_channel: { desk: 1200 } } },
  { id: "e5", ts: TS, actor: "root", action: "retention.changed", channel: "desk", details: { retention_days: 30, previous: 90 } },
  { id: "e4", ts: TS, actor: "carol", action: "hold.released", target: "q3-audit", details: {} },
  { id: "e3", ts: TS, actor: "carol", action: "hold.placed", target: "q3-audit", details: { channels: ["desk"], users: ["bob"], reason: "SEC inquiry" } },
  { id: "e2", ts: TS, actor: null, action: "export.done", target: "x1", details: { events: 300, format: "eml" } },
  { id: "e1", ts: TS, actor: "carol", action: "export.requested", target: "x1", details: { from: "2026-03-01", to: "2026-03-02", format: "eml" } },
];

describe("AuditLog", () => {
  it("reads the archive's actions in words, with their own names and their details", async () => {
    fakeFetch({ "GET /api/admin/audit": { entries: ENTRIES, next_before: null } });
    render(<AuditLog />);
    await waitFor(() => expect(screen.getAllByTestId("audit-entry")).toHaveLength(6));
    const rows = screen.getAllByTestId("audit-entry");
    expect(rows.map((r) => within(r).getByTestId("audit-action").textContent)).toEqual([
      "Retention run",
      "Retention changed",
      "Legal hold released",
      "Legal hold placed",
      "Export finished",
      "Export requested",
    ]);
    // The names the API and docs use stay there to search by.
    expect(within(rows[3]!).getByText("hold.placed").tagName).toBe("CODE");
    const details = (i: number) => within(rows[i]!).queryAllByTestId("audit-detail").map((d) => d.textContent);
    expect(rows[0]!.textContent).toContain("command line");
    expect(details(0)).toEqual(["channels: 2", "channels under a hold: 0", "entries redacted: 1,200", "entries kept under a hold: 0", "by channel: desk 1,200"]);
    expect(rows[1]!.textContent).toContain("#desk");
    expect(details(1)).toEqual(["retention (days): 30", "was: 90"]);
    expect(rows[3]!.textContent).toContain("q3-audit");
    expect(details(3)).toEqual(["channels: desk", "users: bob", "reason: SEC inquiry"]);
    expect(details(2)).toEqual([]);
    expect(details(5)).toEqual(["from: 2026-03-01", "to: 2026-03-02", "format: eml"]);
  });
});
