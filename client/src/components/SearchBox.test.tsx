// @vitest-environment jsdom
import { act, cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ChatState } from "../lib/chatState";
import type { TimelineSource } from "../lib/search";
import type { Channel, Message } from "../lib/types";
import { fakeFetch, type Call } from "../testing/fakeFetch";
import { SearchBox } from "./SearchBox";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const channels: Channel[] = [
  { name: "general", created_by: "system", created_at: "" },
  { name: "desk", created_by: "alice", created_at: "", visibility: "private" },
  { name: "dm-1", created_by: "alice", created_at: "", kind: "dm", members: ["alice", "bob"] },
];
const chat = { me: "bob", channels, byChannel: {} } as unknown as ChatState;

const hit = (seq: number, over: Partial<Message> = {}): Message => ({
  id: `m${seq}`,
  channel: "general",
  seq,
  user: "alice",
  text: `Zanzibar rates, line ${seq}`,
  ts: "2026-03-02T14:05:00Z",
  ...over,
});

/** A channel already joined whose timeline holds `loaded` (ids), with older pages that never reach the hit. */
function timeline(loaded: string[], { hasMore = false } = {}): TimelineSource {
  const items = loaded.map((id, i) => ({ id, key: id, anchor: 0, seq: 100 + i, channel: "general", user: "alice", text: "", ts: "" }));
  const st = { joined: true, hasMore, items };
  return {
    getSnapshot: () => ({ chat: { ...chat, byChannel: { general: st } } as unknown as ChatState }),
    subscribe: () => () => {},
    loadOlder: vi.fn(() => Promise.resolve()),
  };
}

function setup(routes: Record<string, unknown>, source: TimelineSource = timeline([])) {
  const calls = fakeFetch(routes);
  const onSelect = vi.fn();
  const onJump = vi.fn();
  const user = userEvent.setup();
  render(
    <>
      <textarea aria-label="Message #general" />
      <SearchBox chat={chat} source={source} onSelect={onSelect} onJump={onJump} />
    </>,
  );
  const box = screen.getByRole("searchbox", { name: "Search messages" });
  return { calls, onSelect, onJump, user, box };
}

const searches = (calls: Call[]) => calls.filter((c) => c.path === "/api/search").map((c) => Object.fromEntries(c.query));
const hits = () => screen.queryAllByTestId("search-hit");

describe("SearchBox", () => {
  it("sends the words and $TICKERs as q, in: as the channel and from: as the user, and shows each hit", async () => {
    const { calls, user, box } = setup({
      "GET /api/search": {
        hits: [hit(9, { channel: "desk", text: "Zanzibar <b>beats</b> on $TSLA, zanzibar!" }), hit(4, { reply_to: "m1" })],
        next_before: null,
      },
    });
    await user.type(box, "zanzibar $tsla in:#Desk from:@alice{Enter}");
    expect(await screen.findByText("2 messages, newest first")).toBeTruthy();
    expect(searches(calls)).toEqual([{ q: "zanzibar $tsla", channel: "desk", user: "alice", limit: "20" }]);
    const [first, second] = hits();
    expect(within(first!).getByTestId("search-hit-channel").textContent).toBe("desk");
    expect(within(first!).getByRole("img", { name: "private" })).toBeTruthy();
    expect(first!.textContent).toContain("alice");
    expect(first!.querySelector("time")!.textContent).toMatch(/March 2.*, \d+:05/);
    // Text, never HTML: the tags are characters; the matched words and the cashtag are marked.
    expect(within(first!).getByTestId("search-hit-text").textContent).toBe("Zanzibar <b>beats</b> on $TSLA, zanzibar!");
    expect(first!.querySelector("b")).toBeNull();
    expect([...first!.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["Zanzibar", "$TSLA", "zanzibar"]);
    expect(second!.textContent).toContain("in a thread");
  });

  it("searches the channel picked in the menu, a DM by the other person's name", async () => {
    const { calls, user, box } = setup({ "GET /api/search": { hits: [], next_before: null } });
    await user.selectOptions(screen.getByRole("combobox", { name: "Search in" }), "@alice");
    await user.type(box, "lunch{Enter}");
    expect(await screen.findByText("No messages match lunch.")).toBeTruthy();
    expect(searches(calls)).toEqual([{ q: "lunch", channel: "dm-1", limit: "20" }]);
    // An in: written in the box wins over the menu.
    await user.clear(box);
    await user.type(box, "lunch in:general{Enter}");
    await screen.findByText("No messages match lunch in:general.");
    expect(searches(calls)[1]).toEqual({ q: "lunch", channel: "general", limit: "20" });
  });

  it("loads more from next_before, each message once, until there is no more", async () => {
    const { calls, user, box } = setup({
      "GET /api/search": (c: Call) =>
        c.query.get("before") === "cur-1" ? { hits: [hit(7), hit(6)], next_before: null } : { hits: [hit(9), hit(8), hit(7)], next_before: "cur-1" },
    });
    await user.type(box, "zanzibar{Enter}");
    expect(await screen.findByText("3 messages, more to load, newest first")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Load more results" }));
    expect(await screen.findByText("4 messages, newest first")).toBeTruthy();
    expect(hits().map((h) => h.dataset.id)).toEqual(["m9", "m8", "m7", "m6"]);
    expect(searches(calls).map((q) => q.before)).toEqual([undefined, "cur-1"]);
    expect(screen.queryByRole("button", { name: "Load more results" })).toBeNull();
  });

  it("says what went wrong, and tries again", async () => {
    let fail = true;
    const { user, box } = setup({
      "GET /api/search": () => (fail ? { status: 400, error: { code: "invalid_parameter", message: "Nothing to search for." } } : { hits: [hit(3)], next_before: null }),
    });
    await user.type(box, "from:@alice{Enter}");
    expect((await screen.findByTestId("search-error")).textContent).toContain("Nothing to search for.");
    fail = false;
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("1 message, newest first")).toBeTruthy();
    expect(screen.queryByTestId("search-error")).toBeNull();
  });

  it("asks nothing of the server for an empty search or a channel one does not have; a channel alone is a search", async () => {
    const { calls, user, box } = setup({ "GET /api/search": { hits: [], next_before: null } });
    await user.type(box, "  {Enter}");
    expect(screen.getByRole("alert").textContent).toBe("Type a word or a $TICKER to search for.");
    await user.clear(box);
    await user.type(box, "rates in:#secret{Enter}");
    expect(screen.getByRole("alert").textContent).toBe("You have no channel #secret.");
    expect(screen.queryByRole("button", { name: "Try again" })).toBeNull();
    expect(searches(calls)).toEqual([]);
    await user.clear(box);
    await user.type(box, "in:#desk{Enter}");
    await screen.findByText("No messages match in:#desk.");
    expect(searches(calls)).toEqual([{ channel: "desk", limit: "20" }]);
  });

  it("shows the last answer only, when an earlier one comes back after it", async () => {
    let release: () => void = () => {};
    const slow = new Promise<void>((r) => (release = r));
    const { user, box } = setup({ "GET /api/search": { hits: [], next_before: null } });
    const fetch = vi.mocked(globalThis.fetch);
    const quick = fetch.getMockImplementation()!;
    fetch.mockImplementationOnce(async () => {
      await slow;
      return new Response(JSON.stringify({ hits: [hit(1, { text: "old answer" })], next_before: null }));
    });
    fetch.mockImplementationOnce((...args) => quick(...args));
    await user.type(box, "old{Enter}");
    await user.clear(box);
    await user.type(box, "new{Enter}");
    expect(await screen.findByText("No messages match new.")).toBeTruthy();
    await act(async () => {
      release();
      await new Promise((r) => setTimeout(r, 20));
    });
    expect(hits()).toEqual([]);
  });

  it("moves between hits with the arrow keys; Escape closes the panel and returns to the box", async () => {
    const { user, box } = setup({ "GET /api/search": { hits: [hit(3), hit(2), hit(1)], next_before: null } });
    await user.type(box, "zanzibar{Enter}");
    await screen.findByText("3 messages, newest first");
    await user.keyboard("{ArrowDown}");
    expect(document.activeElement).toBe(hits()[0]);
    await user.keyboard("{ArrowDown}{ArrowDown}{ArrowDown}");
    expect(document.activeElement).toBe(hits()[2]);
    await user.keyboard("{ArrowUp}");
    expect(document.activeElement).toBe(hits()[1]);
    await user.keyboard("{Home}");
    expect(document.activeElement).toBe(hits()[0]);
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("search-results")).toBeNull();
    expect(document.activeElement).toBe(box);
    expect((box as HTMLInputElement).value).toBe("zanzibar");
  });

  it("takes focus on / from the page but not from a text box, and on Ctrl+K from anywhere", async () => {
    const { user, box } = setup({});
    const composer = screen.getByRole("textbox", { name: "Message #general" });
    await user.click(composer);
    await user.keyboard("a/");
    expect(document.activeElement).toBe(composer);
    expect((composer as HTMLTextAreaElement).value).toBe("a/");
    await user.keyboard("{Control>}k{/Control}");
    expect(document.activeElement).toBe(box);
    (document.activeElement as HTMLElement).blur();
    await user.keyboard("/");
    expect(document.activeElement).toBe(box);
    expect((box as HTMLInputElement).value).toBe("");
    expect(box.getAttribute("aria-keyshortcuts")).toBe("/ Control+K");
  });

  it("opens a hit: its channel, then the jump once it is in the timeline; the panel closes", async () => {
    const { user, box, onSelect, onJump } = setup({ "GET /api/search": { hits: [hit(5), hit(4, { id: "r4", reply_to: "m1" })], next_before: null } }, timeline(["m1", "m5"]));
    await user.type(box, "zanzibar{Enter}");
    await screen.findByText("2 messages, newest first");
    await user.click(hits()[0]!);
    expect(onSelect).toHaveBeenCalledWith("general");
    expect(onJump).toHaveBeenCalledWith({ channel: "general", id: "m5", thread: false, nonce: 1 });
    expect(screen.queryByTestId("search-results")).toBeNull();
    // A reply: its thread's root, with the thread.
    await user.click(box);
    await user.keyboard("{Enter}");
    await screen.findByText("2 messages, newest first");
    hits()[1]!.focus();
    await user.keyboard("{Enter}");
    expect(onJump).toHaveBeenLastCalledWith({ channel: "general", id: "m1", thread: true, nonce: 2 });
  });

  it("keeps a hit too far back in the results, in full, and says so", async () => {
    const source = timeline(["m900"], { hasMore: true });
    const { user, box, onJump } = setup({ "GET /api/search": { hits: [hit(5)], next_before: null } }, source);
    await user.type(box, "zanzibar{Enter}");
    await screen.findByText("1 message, newest first");
    await user.click(hits()[0]!);
    expect((await screen.findByTestId("search-hit-note")).textContent).toBe(
      "This message is more than 40 pages back in #general, too far to scroll to: here it is in full.",
    );
    expect(source.loadOlder).toHaveBeenCalledTimes(40);
    expect(onJump).not.toHaveBeenCalled();
    expect(screen.getByTestId("search-hit-text").className).not.toContain("line-clamp");
    expect(document.activeElement).toBe(hits()[0]);
  });

  it("passes axe with results, a note and an error", async () => {
    const { user, box } = setup({ "GET /api/search": { hits: [hit(5), hit(4, { channel: "desk" })], next_before: "c" } }, timeline([], { hasMore: false }));
    await user.type(box, "zanzibar{Enter}");
    await screen.findByText("2 messages, more to load, newest first");
    await user.click(hits()[0]!);
    await screen.findByTestId("search-hit-note");
    const res = await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } });
    expect(res.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  });
});
