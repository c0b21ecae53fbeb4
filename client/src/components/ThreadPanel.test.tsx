// @vitest-environment jsdom
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ChatClient, SendResult } from "../lib/chatClient";
import { chatReducer, initialState, type ChatAction, type ChatState } from "../lib/chatState";
import type { Message } from "../lib/types";
import { PinsButton } from "./PinsButton";
import { ThreadPanel } from "./ThreadPanel";

afterEach(() => cleanup());

const TS = "2026-03-02T14:30:00Z";
const msg = (seq: number, over: Partial<Message> = {}): Message => ({
  id: `m${seq}`,
  channel: "desk",
  seq,
  user: "bob",
  text: `text ${seq}`,
  ts: TS,
  ...over,
});

function channelWith(...actions: ChatAction[]): ChatState {
  return [
    { type: "joined", ack: { channel: "desk", messages: [msg(1, { reply_count: 2, rev: 3 }), msg(4)], last_seq: 4, members: [] } } as ChatAction,
    ...actions,
  ].reduce(chatReducer, initialState("alice"));
}

describe("ThreadPanel", () => {
  function setup() {
    let chat = channelWith();
    const replies = [msg(2, { user: "carol", reply_to: "m1" }), msg(3, { user: "dave", reply_to: "m1" })];
    const client = {
      loadThread: vi.fn((channel: string, root: Message) => {
        chat = chatReducer(chat, { type: "thread_loaded", channel, root, replies });
        return Promise.resolve();
      }),
      send: vi.fn((): Promise<SendResult> => Promise.resolve({ ok: true })),
      typing: vi.fn(),
    };
    const onClose = vi.fn();
    const view = render(
      <ThreadPanel client={client as unknown as ChatClient} channel="desk" rootId="m1" state={chat.byChannel.desk!} me="alice" online onClose={onClose} />,
    );
    const redraw = (next?: ChatAction) => {
      if (next) chat = chatReducer(chat, next);
      view.rerender(
        <ThreadPanel client={client as unknown as ChatClient} channel="desk" rootId="m1" state={chat.byChannel.desk!} me="alice" online onClose={onClose} />,
      );
    };
    return { client, onClose, redraw, user: userEvent.setup() };
  }

  it("is a region labelled Thread showing the root, then its loaded replies", async () => {
    const { client, redraw } = setup();
    const panel = screen.getByRole("region", { name: "Thread" });
    expect(within(panel).getByText("text 1")).toBeTruthy();
    expect(within(panel).getByText("Loading replies…")).toBeTruthy();
    await waitFor(() => expect(client.loadThread).toHaveBeenCalledTimes(1));
    expect(client.loadThread.mock.calls[0]![1].id).toBe("m1");
    redraw();
    const list = within(panel).getByRole("list", { name: "Replies" });
    expect(within(list).getAllByTestId("message").map((r) => r.getAttribute("data-seq"))).toEqual(["2", "3"]);
    expect(within(panel).getByTestId("thread-count").textContent).toContain("2 replies");
    expect(within(panel).queryByText("Loading replies…")).toBeNull();
  });

  it("shows live replies and counts them on the root", async () => {
    const { client, redraw } = setup();
    await waitFor(() => expect(client.loadThread).toHaveBeenCalled());
    redraw({ type: "message", message: msg(5, { user: "erin", reply_to: "m1", text: "late reply" }) });
    const panel = screen.getByRole("region", { name: "Thread" });
    expect(within(panel).getByText("late reply")).toBeTruthy();
    expect(within(panel).getByTestId("thread-count").textContent).toContain("3 replies");
  });

  it("sends from its own composer with reply_to the root, and has focus there when it opens", async () => {
    const { client, user } = setup();
    const box = screen.getByRole("textbox", { name: "Reply in thread" });
    expect(document.activeElement).toBe(box);
    await user.type(box, "agreed{Enter}");
    expect(client.send).toHaveBeenCalledWith("desk", "agreed", expect.any(String), "m1");
  });

  it("closes on its close button and on Escape", async () => {
    const { onClose, user } = setup();
    await user.click(screen.getByRole("button", { name: "Close thread" }));
    expect(onClose).toHaveBeenCalledTimes(1);
    await user.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalledTimes(2);
  });
});

describe("PinsButton", () => {
  function setup({ moderates = false } = {}) {
    let chat = channelWith();
    const client = {
      loadPins: vi.fn((channel: string) => {
        chat = chatReducer(chat, { type: "pins_loaded", channel, messages: [msg(4, { pinned: true, rev: 5, text: "read this" })] });
        return Promise.resolve();
      }),
      unpin: vi.fn(() => Promise.resolve({ ok: true })),
    };
    const view = render(<PinsButton client={client as unknown as ChatClient} channel="desk" pins={chat.byChannel.desk!.pins} moderates={moderates} />);
    const redraw = (next?: ChatAction) => {
      if (next) chat = chatReducer(chat, next);
      view.rerender(<PinsButton client={client as unknown as ChatClient} channel="desk" pins={chat.byChannel.desk!.pins} moderates={moderates} />);
    };
    return { client, redraw, user: userEvent.setup() };
  }

  it("loads the pins once, shows their count and lists them in a dialog", async () => {
    const { client, redraw, user } = setup();
    await waitFor(() => expect(client.loadPins).toHaveBeenCalledTimes(1));
    redraw();
    const button = screen.getByRole("button", { name: /Pinned messages/ });
    expect(button.textContent).toContain("1");
    expect(button.getAttribute("aria-expanded")).toBe("false");
    await user.click(button);
    const dialog = screen.getByRole("dialog", { name: "Pinned messages" });
    expect(within(dialog).getByText("read this")).toBeTruthy();
    expect(within(dialog).queryByRole("button", { name: "Unpin" })).toBeNull();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog", { name: "Pinned messages" })).toBeNull();
    expect(document.activeElement).toBe(button);
    expect(client.loadPins).toHaveBeenCalledTimes(1);
  });

  it("stays live with pin and unpin changes", async () => {
    const { client, redraw, user } = setup({ moderates: true });
    await waitFor(() => expect(client.loadPins).toHaveBeenCalled());
    redraw({ type: "updated", channel: "desk", seq: 6, message: msg(1, { pinned: true, rev: 6, text: "pinned later" }) });
    const button = screen.getByRole("button", { name: /Pinned messages/ });
    expect(button.textContent).toContain("2");
    await user.click(button);
    const dialog = screen.getByRole("dialog", { name: "Pinned messages" });
    expect(within(dialog).getAllByTestId("pinned-message").map((li) => li.textContent)).toEqual([
      expect.stringContaining("pinned later"),
      expect.stringContaining("read this"),
    ]);
    await user.click(within(dialog).getAllByRole("button", { name: "Unpin" })[1]!);
    expect(client.unpin).toHaveBeenCalledWith("desk", "m4");
    redraw({ type: "updated", channel: "desk", seq: 7, message: msg(4, { pinned: false, rev: 7 }) });
    expect(within(screen.getByRole("dialog", { name: "Pinned messages" })).getAllByTestId("pinned-message")).toHaveLength(1);
    expect(button.textContent).toContain("1");
  });
});
