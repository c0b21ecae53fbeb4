// @vitest-environment jsdom
// axe-core's serious and critical findings on the new message views, as the browser tests check
// the whole page (tests/browser/test_accessibility.py); jsdom has no layout, so contrast is left
// to those.
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ChatClient } from "../lib/chatClient";
import { chatReducer, initialState } from "../lib/chatState";
import type { TimelineItem } from "../lib/messages";
import { MessageActionsContext, type MessageActions } from "./messageActions";
import { MessageRow } from "./MessageRow";
import { PinsButton } from "./PinsButton";
import { ThreadPanel } from "./ThreadPanel";

afterEach(() => cleanup());

async function serious(): Promise<string[]> {
  const res = await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } });
  return res.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help}`);
}

const ok = () => Promise.resolve({ ok: true as const });
const actions: MessageActions = { moderates: true, edit: ok, remove: ok, toggleReaction: ok, setPinned: ok, openThread: vi.fn() };
const row = (over: Partial<TimelineItem>): TimelineItem => ({
  id: "m1",
  key: "m1",
  anchor: 1,
  seq: 1,
  channel: "desk",
  user: "alice",
  text: "AAPL looks strong",
  ts: "2026-03-02T14:30:00Z",
  ...over,
});

describe("accessibility of message actions", () => {
  it("a row with its toolbar, picker, chips, edited mark and replies; a tombstone and a redacted one; a delete confirm", async () => {
    const user = userEvent.setup({ skipHover: true });
    render(
      <MessageActionsContext.Provider value={actions}>
        <ol aria-label="Message list">
          <li>
            <MessageRow
              item={row({ edited_at: "2026-03-02T14:31:00Z", reply_count: 2, pinned: true, reactions: [{ emoji: "🐂", count: 2, users: ["alice", "bob"] }] })}
              me="alice"
              compact={false}
            />
          </li>
          <li>
            <MessageRow item={row({ id: "m2", key: "m2", seq: 2, deleted: true, text: "" })} me="alice" compact />
          </li>
          <li>
            <MessageRow item={row({ id: "m3", key: "m3", seq: 3, user: "bob" })} me="alice" compact={false} />
          </li>
          <li>
            <MessageRow item={row({ id: "m4", key: "m4", seq: 4, user: "bob", redacted: true, text: "" })} me="alice" compact={false} />
          </li>
        </ol>
      </MessageActionsContext.Provider>,
    );
    const [first, , third] = screen.getAllByTestId("message");
    await user.hover(first!);
    await user.click(screen.getByRole("button", { name: "React" }));
    expect(await serious()).toEqual([]);
    await user.unhover(first!);
    await user.hover(third!);
    await user.click(within(third!).getByRole("button", { name: "Delete" }));
    expect(screen.getByRole("alertdialog", { name: "Delete message" })).toBeTruthy();
    expect(await serious()).toEqual([]);
  });

  it("the thread panel and the pins list", async () => {
    let chat = chatReducer(initialState("alice"), {
      type: "joined",
      ack: { channel: "desk", messages: [{ ...row({ reply_count: 1, pinned: true }) }], last_seq: 2, members: [] },
    });
    chat = chatReducer(chat, { type: "pins_loaded", channel: "desk", messages: [row({ pinned: true })] });
    const client = {
      loadThread: () => Promise.resolve(),
      loadPins: () => Promise.resolve(),
      send: () => Promise.resolve({ ok: true }),
      typing: () => {},
      unpin: ok,
    } as unknown as ChatClient;
    const user = userEvent.setup();
    render(
      <MessageActionsContext.Provider value={actions}>
        <main>
          <h1>desk</h1>
          <PinsButton client={client} channel="desk" pins={chat.byChannel.desk!.pins} moderates />
          <ThreadPanel client={client} channel="desk" rootId="m1" state={chat.byChannel.desk!} me="alice" online onClose={() => {}} />
        </main>
      </MessageActionsContext.Provider>,
    );
    await user.click(screen.getByRole("button", { name: /Pinned messages/ }));
    expect(screen.getByRole("dialog", { name: "Pinned messages" })).toBeTruthy();
    expect(await serious()).toEqual([]);
  });
});
