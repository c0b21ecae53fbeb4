import { describe, expect, it } from "vitest";
import { actionLabel, detailPairs } from "./audit";

describe("audit log wording", () => {
  it("names the archive's actions and the older dotted ones in words, unknown ones as sent", () => {
    expect(
      ["export.requested", "export.done", "hold.placed", "hold.released", "retention.changed", "retention.run"].map(actionLabel),
    ).toEqual(["Export requested", "Export finished", "Legal hold placed", "Legal hold released", "Retention changed", "Retention run"]);
    expect(actionLabel("export.downloaded")).toBe("Export downloaded");
    expect(actionLabel("hold.placed")).toBe("Legal hold placed");
    expect(actionLabel("role.grant")).toBe("Role granted");
    expect(actionLabel("channel.muted")).toBe("Muted");
    expect(actionLabel("something_new")).toBe("something_new");
  });

  it("reads details as short pairs: lists joined, numbers grouped, nested values flattened", () => {
    expect(
      detailPairs({ details: { channels: ["desk", "general"], users: [], retention_days: 30, on_hold: true, heads: { desk: 4 } } }),
    ).toEqual([
      { key: "channels", label: "channels", value: "desk, general" },
      { key: "users", label: "users", value: "none" },
      { key: "retention_days", label: "retention (days)", value: "30" },
      { key: "on_hold", label: "on hold", value: "yes" },
      { key: "heads", label: "heads", value: "desk 4" },
    ]);
    // A retention run's report, as the archiver writes it.
    const run = { channels: 3, held_channels: 1, redacted: 1200, held: 4, by_channel: { desk: 1200 }, now: "2026-03-02T00:00:00Z", default_days: null };
    expect(detailPairs({ details: run }).map((d) => `${d.label}: ${d.value}`)).toEqual([
      "channels: 3",
      "channels under a hold: 1",
      "entries redacted: 1,200",
      "entries kept under a hold: 4",
      "by channel: desk 1,200",
      "as of: 2026-03-02T00:00:00Z",
      "default retention (days): forever",
    ]);
    expect(detailPairs({ details: null })).toEqual([]);
  });
});
