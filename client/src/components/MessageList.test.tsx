// @vitest-environment jsdom
import { act, cleanup, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatClient } from "../lib/chatClient";
import type { ChannelState } from "../lib/channelState";
import { chatReducer, initialState } from "../lib/chatState";
import type { TimelineItem } from "../lib/messages";
import type { JumpTarget } from "../lib/search";
import { fakeBoxSize, stubResizeObserver } from "../testing/layout";
import { ChatPane } from "./ChatPane";
import { MessageActionsContext, type MessageActions } from "./messageActions";
import { MessageList } from "./MessageList";

beforeAll(stubResizeObserver);

beforeEach(() => {
  // jsdom lays nothing out: the list is said to be 600 px high (it draws the rows that fit) and
  // taller inside (so it does not load older pages to fill itself); where it scrolls to is left to
  // the browser test (tests/browser/test_search_browser.py).
  fakeBoxSize(600);
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const item = (seq: number): TimelineItem => ({
  id: `m${seq}`,
  key: `m${seq}`,
  anchor: seq,
  seq,
  channel: "general",
  user: "carol",
  text: `line ${seq}`,
  ts: "2026-03-02T14:00:00Z",
});

const channel = (from: number, to: number): ChannelState =>
  ({
    items: Array.from({ length: to - from + 1 }, (_, i) => item(from + i)),
    hasMore: from > 1,
    joined: true,
    members: [],
    threads: {},
    pins: [],
    role: null,
    mutedUntil: null,
    rosterRev: 0,
  }) as unknown as ChannelState;

const ok = () => Promise.resolve({ ok: true as const });
const actions: MessageActions = { moderates: false, edit: ok, remove: ok, toggleReaction: ok, setPinned: ok, openThread: vi.fn() };
const client = { loadOlder: () => Promise.resolve() } as unknown as ChatClient;

function list(state: ChannelState, jumpTo: JumpTarget | null, onJumped = vi.fn()) {
  return (
    <MessageActionsContext.Provider value={actions}>
      <MessageList client={client} channel="general" state={state} me="bob" jumpTo={jumpTo} onJumped={onJumped} />
    </MessageActionsContext.Provider>
  );
}

const row = (id: string) => screen.getAllByTestId("message").find((r) => r.dataset.id === id);

describe("MessageList jumping to a search hit", () => {
  it("waits for the message to be loaded, then focuses it and marks it for a moment, once", async () => {
    const onJumped = vi.fn();
    const target: JumpTarget = { channel: "general", id: "m2", thread: false, nonce: 1 };
    const { rerender } = render(list(channel(8, 12), target, onJumped));
    await act(() => new Promise((r) => setTimeout(r, 30)));
    expect(onJumped).not.toHaveBeenCalled();

    rerender(list(channel(1, 12), target, onJumped));
    await waitFor(() => expect(onJumped).toHaveBeenCalledWith(target));
    await waitFor(() => expect(document.activeElement).toBe(row("m2")));
    const li = row("m2")!.closest("li")!;
    expect(li.dataset.highlighted).toBe("true");
    // Marked briefly: gone after a few seconds, and not again for the same jump.
    await waitFor(() => expect(li.dataset.highlighted).toBeUndefined(), { timeout: 4000 });
    rerender(list(channel(1, 13), target, onJumped));
    expect(onJumped).toHaveBeenCalledTimes(1);
  });
});

describe("ChatPane jumping to a reply's thread", () => {
  it("focuses the root in the list and opens its thread beside it", async () => {
    const chat = chatReducer(initialState("bob"), {
      type: "joined",
      ack: { channel: "general", messages: [{ ...item(1), reply_count: 1 }, item(3)], last_seq: 3, members: [] },
    });
    const paneClient = {
      loadPins: () => Promise.resolve(),
      loadThread: vi.fn(() => Promise.resolve()),
      typing: () => {},
      send: ok,
    } as unknown as ChatClient;
    const onJumped = vi.fn();
    render(
      <ChatPane
        client={paneClient}
        chat={chat}
        channel="general"
        conn="connected"
        onOpenSidebar={() => {}}
        jumpTo={{ channel: "general", id: "m1", thread: true, nonce: 1 }}
        onJumped={onJumped}
      />,
    );
    expect(await screen.findByRole("region", { name: "Thread" })).toBeTruthy();
    expect(onJumped).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(document.activeElement).toBe(row("m1")));
  });
});
