// @vitest-environment jsdom
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TimelineItem } from "../lib/messages";
import type { Idea, UserIdeas } from "../lib/types";
import { fakeFetch } from "../testing/fakeFetch";
import { MessageRow } from "./MessageRow";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const TS = "2026-03-02T14:30:00Z";

function idea(n: number, over: Partial<Idea>): Idea {
  return {
    id: `i${n}`,
    author: "carol",
    channel: "desk",
    side: "long",
    symbol: "AAPL.US",
    currency: "USD",
    entry: "100",
    opened_at: `2026-03-0${n}T10:00:00Z`,
    expires_at: "2026-04-01T10:00:00Z",
    status: "open",
    ...over,
  };
}

const RECORD: UserIdeas = {
  ideas: [
    idea(1, { status: "target_hit", return_pct: "8.00" }),
    idea(2, { side: "short", symbol: "TSLA.US", status: "stopped", return_pct: "-3.50" }),
    idea(3, { status: "expired", return_pct: "1.25" }),
    idea(4, { symbol: "VOD.UK", currency: "GBX" }),
    idea(5, { status: "target_hit", return_pct: "5.10" }),
    idea(6, { symbol: "MSFT.US" }),
  ],
  scorecard: { ideas: 6, closed: 4, hit_rate: 0.5, avg_return_pct: "2.71" },
};

function row(user = "carol") {
  const item: TimelineItem = { key: "m1", anchor: 1, seq: 1, channel: "desk", user, text: "long $AAPL into earnings", ts: TS };
  render(<MessageRow item={item} me="bob" compact={false} />);
}

describe("an author's scorecard", () => {
  it("opens from the author's name with their record and latest ideas, and Escape gives focus back to the name", async () => {
    const calls = fakeFetch({ "GET /api/users/carol/ideas": RECORD, "GET /api/quotes": { quotes: [], errors: [], resolved: {} } });
    const user = userEvent.setup();
    row();
    const name = screen.getByRole("button", { name: "carol" });
    await user.click(name);
    const pop = screen.getByRole("dialog", { name: "carol's trade ideas" });
    expect(document.activeElement).toBe(pop);
    await waitFor(() => expect(within(pop).getByTestId("scorecard-figures")).toBeTruthy());
    const figures = within(pop).getByTestId("scorecard-figures");
    expect([...figures.querySelectorAll("dt")].map((d) => d.textContent)).toEqual(["Ideas", "Closed", "Hit rate", "Avg return"]);
    expect([...figures.querySelectorAll("dd")].map((d) => d.textContent)).toEqual(["6", "4", "50%", "+2.71%"]);
    // The five newest, each with how it ended.
    const lines = within(pop).getAllByTestId("scorecard-idea");
    expect(lines.map((l) => l.textContent)).toEqual([
      "LongMSFT.USOpen",
      "LongAAPL.USTarget hit+5.10%",
      "LongVOD.UKOpen",
      "LongAAPL.USExpired+1.25%",
      "ShortTSLA.USStopped-3.50%",
    ]);
    expect(calls.filter((c) => c.path.startsWith("/api/users")).map((c) => c.path)).toEqual(["/api/users/carol/ideas"]);
    const res = await axe.run(pop, { rules: { "color-contrast": { enabled: false } } });
    expect(res.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);

    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(name);
    // Enter on the name opens it again, read afresh.
    await user.keyboard("{Enter}");
    expect(screen.getByRole("dialog", { name: "carol's trade ideas" })).toBeTruthy();
    await waitFor(() => expect(calls.filter((c) => c.path === "/api/users/carol/ideas")).toHaveLength(2));
  });

  it("says it is loading, then why it could not load", async () => {
    let fail: (v: unknown) => void = () => {};
    fakeFetch({ "GET /api/quotes": { quotes: [], errors: [], resolved: {} } });
    vi.stubGlobal(
      "fetch",
      vi.fn(() => new Promise((resolve) => (fail = resolve))),
    );
    const user = userEvent.setup();
    row("dave");
    await user.click(screen.getByRole("button", { name: "dave" }));
    const pop = screen.getByRole("dialog", { name: "dave's trade ideas" });
    expect(within(pop).getByRole("status").textContent).toBe("Loading…");
    fail(new Response(JSON.stringify({ error: { code: "user_not_found", message: "No user dave" } }), { status: 404 }));
    expect((await within(pop).findByRole("alert")).textContent).toBe("No user dave");
    await user.click(within(pop).getByRole("button", { name: "Close" }));
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("is not offered on a bot's name", () => {
    fakeFetch({});
    const item: TimelineItem = { key: "m1", anchor: 1, seq: 1, channel: "desk", user: "StockBot", bot: true, text: "AAPL.US 189.84", ts: TS };
    render(<MessageRow item={item} me="bob" compact={false} />);
    expect(screen.queryByRole("button", { name: "StockBot" })).toBeNull();
  });
});
