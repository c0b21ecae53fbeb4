// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatClient } from "../lib/chatClient";
import type { ChannelState } from "../lib/channelState";
import type { TimelineItem } from "../lib/messages";
import { fakeBoxSize, stubResizeObserver } from "../testing/layout";
import { MessageList } from "./MessageList";

beforeAll(stubResizeObserver);

beforeEach(() => {
  // jsdom lays nothing out: the list is said to be tall enough to draw every row.
  fakeBoxSize(2000);
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const item = (seq: number, user = "carol", over: Partial<TimelineItem> = {}): TimelineItem => ({
  id: `m${seq}`,
  key: `m${seq}`,
  anchor: seq,
  seq,
  channel: "general",
  user,
  text: `line ${seq}`,
  ts: "2026-03-02T14:00:00Z",
  ...over,
});

const state = (items: TimelineItem[]) =>
  ({ items, hasMore: false, joined: true, members: [], threads: {}, pins: [], role: null, mutedUntil: null, rosterRev: 0 }) as unknown as ChannelState;

const client = { loadOlder: () => Promise.resolve() } as unknown as ChatClient;

/** The id of the message whose row the "new messages" line sits in, or null. */
function lineAt(): string | null {
  const line = screen.queryByRole("separator", { name: "New messages" });
  return line?.closest("li")?.querySelector<HTMLElement>("[data-testid=message]")?.dataset.id ?? null;
}

describe("MessageList's new messages line", () => {
  it("sits above the first message by someone else after the read mark", () => {
    const items = [item(1), item(2), item(3, "bob"), { ...item(4), event: { seq: 4, channel: "general", kind: "muted" as const, by: "x", ts: "" } }, item(5), item(6)];
    const { rerender } = render(<MessageList client={client} channel="general" state={state(items)} me="bob" newAfter={2} />);
    expect(lineAt()).toBe("m5"); // 3 is mine, 4 a channel event
    expect(screen.getAllByRole("separator", { name: "New messages" })).toHaveLength(1);
    rerender(<MessageList client={client} channel="general" state={state(items)} me="bob" newAfter={null} />);
    expect(lineAt()).toBeNull();
    rerender(<MessageList client={client} channel="general" state={state(items)} me="bob" newAfter={6} />);
    expect(lineAt()).toBeNull();
  });
});
