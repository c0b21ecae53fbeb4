// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ActionResult } from "../lib/chatClient";
import type { TimelineItem } from "../lib/messages";
import { REACTIONS } from "../lib/reactions";
import { MessageActionsContext, type MessageActions } from "./messageActions";
import { MessageRow } from "./MessageRow";

const TS = "2026-03-02T14:30:00Z";
const OK: ActionResult = { ok: true };

afterEach(() => cleanup());

function item(over: Partial<TimelineItem> = {}): TimelineItem {
  return { id: "m1", key: "m1", anchor: 1, seq: 1, channel: "general", user: "alice", text: "hello there", ts: TS, ...over };
}

function setup(over: Partial<TimelineItem> = {}, { me = "alice", moderates = false, result = OK } = {}) {
  const actions: MessageActions = {
    moderates,
    edit: vi.fn(() => Promise.resolve(result)),
    remove: vi.fn(() => Promise.resolve(result)),
    toggleReaction: vi.fn(() => Promise.resolve(result)),
    setPinned: vi.fn(() => Promise.resolve(result)),
    openThread: vi.fn(),
  };
  // Clicks without moving the pointer: user-event's move onto a child would make React see the
  // row left (a real browser does not), taking the hover toolbar away mid-click.
  const user = userEvent.setup({ skipHover: true });
  const view = render(
    <MessageActionsContext.Provider value={actions}>
      <MessageRow item={item(over)} me={me} compact={false} />
    </MessageActionsContext.Provider>,
  );
  const rerender = (next: Partial<TimelineItem>) =>
    view.rerender(
      <MessageActionsContext.Provider value={actions}>
        <MessageRow item={item(next)} me={me} compact={false} />
      </MessageActionsContext.Provider>,
    );
  const row = screen.getByTestId("message");
  return { actions, user, row, rerender };
}

const toolbar = () => screen.queryByRole("toolbar", { name: "Message actions" });
const names = () => within(toolbar()!).getAllByRole("button").map((b) => b.getAttribute("aria-label"));

describe("message row actions", () => {
  it("shows its toolbar on hover and on keyboard focus, and Escape closes it", async () => {
    const { user, row } = setup();
    expect(toolbar()).toBeNull();
    await user.hover(row);
    expect(toolbar()).not.toBeNull();
    await user.unhover(row);
    expect(toolbar()).toBeNull();
    await user.tab();
    expect(document.activeElement).toBe(row);
    expect(names()).toEqual(["React", "Reply", "Edit", "Delete"]);
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "React" }));
    await user.keyboard("{ArrowRight}");
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Reply" }));
    await user.keyboard("{Escape}");
    expect(toolbar()).toBeNull();
    expect(document.activeElement).toBe(row);
  });

  it("offers edit and delete on my own messages only; pin and delete to the channel's owner", async () => {
    const mineView = setup();
    await mineView.user.hover(mineView.row);
    expect(names()).toEqual(["React", "Reply", "Edit", "Delete"]);
    cleanup();
    const other = setup({}, { me: "bob" });
    await other.user.hover(other.row);
    expect(names()).toEqual(["React", "Reply"]);
    cleanup();
    const owner = setup({}, { me: "bob", moderates: true });
    await owner.user.hover(owner.row);
    expect(names()).toEqual(["React", "Reply", "Pin", "Delete"]);
    cleanup();
    const pinned = setup({ pinned: true }, { me: "bob", moderates: true });
    await pinned.user.hover(pinned.row);
    expect(names()).toEqual(["React", "Reply", "Unpin", "Delete"]);
    await pinned.user.click(screen.getByRole("button", { name: "Unpin" }));
    expect(pinned.actions.setPinned).toHaveBeenCalledWith("m1", false);
    expect(within(pinned.row).getByTestId("pinned-note").textContent).toContain("Pinned");
  });

  it("never offers to edit a bot's message", async () => {
    const { user, row } = setup({ user: "StockBot", bot: true }, { me: "StockBot" });
    await user.hover(row);
    expect(names()).not.toContain("Edit");
  });

  it("edits in place: Enter saves, and the row shows the new text", async () => {
    const { user, row, actions } = setup();
    await user.hover(row);
    await user.click(screen.getByRole("button", { name: "Edit" }));
    const box = screen.getByRole<HTMLTextAreaElement>("textbox", { name: "Edit message" });
    expect(document.activeElement).toBe(box);
    expect(box.value).toBe("hello there");
    await user.clear(box);
    await user.type(box, "hello world{Enter}");
    expect(actions.edit).toHaveBeenCalledWith("m1", "hello world");
    expect(screen.queryByRole("textbox", { name: "Edit message" })).toBeNull();
    expect(document.activeElement).toBe(row);
  });

  it("cancels an edit on Escape without asking the server", async () => {
    const { user, row, actions } = setup();
    await user.hover(row);
    await user.click(screen.getByRole("button", { name: "Edit" }));
    await user.type(screen.getByRole("textbox", { name: "Edit message" }), " more{Escape}");
    expect(screen.queryByRole("textbox", { name: "Edit message" })).toBeNull();
    expect(actions.edit).not.toHaveBeenCalled();
    expect(within(row).getByTestId("message-text").textContent).toBe("hello there");
  });

  it("keeps the editor open and shows the server's refusal", async () => {
    const refused: ActionResult = { ok: false, error: { code: "edit_window_closed", message: "Too late to edit this message" } };
    const { user, row } = setup({}, { result: refused });
    await user.hover(row);
    await user.click(screen.getByRole("button", { name: "Edit" }));
    await user.type(screen.getByRole("textbox", { name: "Edit message" }), "!{Enter}");
    expect(screen.getByRole("alert").textContent).toBe("Too late to edit this message");
    expect(screen.getByRole("textbox", { name: "Edit message" }).getAttribute("aria-invalid")).toBe("true");
  });

  it("shows “(edited)” with the time in its tooltip", () => {
    const { row } = setup({ text: "fixed", edited_at: "2026-03-02T15:00:00Z", rev: 4 });
    const mark = within(row).getByTestId("edited");
    expect(mark.textContent).toBe("(edited)");
    expect(mark.getAttribute("title")).toMatch(/^Edited /);
  });

  it("deletes only after a confirm step", async () => {
    const { user, row, actions } = setup();
    await user.hover(row);
    await user.click(screen.getByRole("button", { name: "Delete" }));
    const dialog = screen.getByRole("alertdialog", { name: "Delete message" });
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(actions.remove).not.toHaveBeenCalled();
    await user.hover(row);
    await user.click(screen.getByRole("button", { name: "Delete" }));
    await user.click(screen.getByRole("button", { name: "Yes, delete" }));
    expect(actions.remove).toHaveBeenCalledWith("m1");
  });

  it("renders a deleted message as a tombstone with no actions that keeps its place", async () => {
    const { user, row } = setup({ deleted: true, text: "", rev: 5, reactions: [] });
    expect(within(row).getByText("This message was deleted")).toBeTruthy();
    expect(row.getAttribute("data-deleted")).toBe("true");
    expect(row.getAttribute("tabindex")).toBeNull();
    await user.hover(row);
    expect(toolbar()).toBeNull();
    expect(within(row).queryByRole("button")).toBeNull();
    expect(within(row).getByText("alice")).toBeTruthy();
  });

  it("renders a message redacted under the retention policy as a muted tombstone with no actions", async () => {
    // As the server sends it once the retention job has run: text gone, the flag set, id, seq and user kept.
    const { user, row } = setup({ redacted: true, text: "", reactions: [], pinned: true, mentions: ["bob"] }, { me: "bob", moderates: true });
    const tombstone = within(row).getByTestId("tombstone");
    expect(tombstone.textContent).toBe("Removed under the retention policy");
    expect(tombstone.className).toContain("text-ink-400");
    expect(row.getAttribute("data-redacted")).toBe("true");
    expect(row.getAttribute("data-deleted")).toBe("false");
    // Nothing of it is left to act on, to pin-mark, or to highlight as a mention.
    expect(row.getAttribute("tabindex")).toBeNull();
    expect(row.getAttribute("data-mentions-me")).toBe("false");
    await user.hover(row);
    expect(toolbar()).toBeNull();
    expect(within(row).queryByRole("button")).toBeNull();
    expect(within(row).queryByTestId("pinned-note")).toBeNull();
    expect(within(row).queryByTestId("message-text")).toBeNull();
    expect(within(row).getByText("alice")).toBeTruthy();
  });

  it("turns into a tombstone while it is being edited when someone deletes it", async () => {
    const { user, row, rerender } = setup();
    await user.hover(row);
    await user.click(screen.getByRole("button", { name: "Edit" }));
    rerender({ deleted: true, text: "", rev: 6 });
    expect(screen.queryByRole("textbox", { name: "Edit message" })).toBeNull();
    expect(screen.getByText("This message was deleted")).toBeTruthy();
  });

  it("reacts from a picker that lists the allowlist, bull and bear first", async () => {
    const { user, row, actions } = setup({}, { me: "bob" });
    await user.hover(row);
    await user.click(screen.getByRole("button", { name: "React" }));
    const picker = screen.getByRole("group", { name: "Pick a reaction" });
    const buttons = within(picker).getAllByRole("button");
    expect(buttons.map((b) => b.getAttribute("aria-label"))).toEqual(REACTIONS.map((e) => `Add reaction ${e}`));
    expect(buttons[0]!.getAttribute("aria-label")).toBe("Add reaction 🐂");
    expect(buttons[1]!.getAttribute("aria-label")).toBe("Add reaction 🐻");
    expect(document.activeElement).toBe(buttons[0]);
    await user.click(screen.getByRole("button", { name: "Add reaction 🐻" }));
    expect(actions.toggleReaction).toHaveBeenCalledWith("m1", "🐻", false);
    expect(screen.queryByRole("group", { name: "Pick a reaction" })).toBeNull();
  });

  it("closes the picker on Escape and gives focus back to React", async () => {
    const { user, row } = setup();
    await user.hover(row);
    await user.click(screen.getByRole("button", { name: "React" }));
    expect(screen.getByRole("group", { name: "Pick a reaction" })).toBeTruthy();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("group", { name: "Pick a reaction" })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "React" }));
  });

  it("shows reaction chips with counts, pressed where I reacted, and a click toggles", async () => {
    const { user, actions } = setup(
      {
        reactions: [
          { emoji: "🐂", count: 2, users: ["bob", "carol"] },
          { emoji: "🐻", count: 1, users: ["dave"] },
        ],
      },
      { me: "Bob" },
    );
    const bull = screen.getByRole("button", { name: "🐂 2" });
    const bear = screen.getByRole("button", { name: "🐻 1" });
    expect(bull.getAttribute("aria-pressed")).toBe("true");
    expect(bear.getAttribute("aria-pressed")).toBe("false");
    expect(bull.getAttribute("title")).toContain("bob, carol");
    await user.click(bull);
    expect(actions.toggleReaction).toHaveBeenLastCalledWith("m1", "🐂", true);
    await user.click(bear);
    expect(actions.toggleReaction).toHaveBeenLastCalledWith("m1", "🐻", false);
  });

  it("shows an action's refusal under the row", async () => {
    const refused: ActionResult = { ok: false, error: { code: "not_joined", message: "Join the channel first" } };
    setup({ reactions: [{ emoji: "🔥", count: 1, users: ["carol"] }] }, { result: refused });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "🔥 1" }));
      await Promise.resolve();
    });
    expect(screen.getByRole("alert").textContent).toBe("Join the channel first");
  });

  it("opens the thread from Reply and from its reply count", async () => {
    const { user, row, actions } = setup({ reply_count: 3 });
    await user.click(screen.getByRole("button", { name: "3 replies" }));
    expect(actions.openThread).toHaveBeenCalledTimes(1);
    await user.hover(row);
    await user.click(screen.getByRole("button", { name: "Reply" }));
    expect(actions.openThread).toHaveBeenCalledTimes(2);
    expect(vi.mocked(actions.openThread).mock.calls[0]![0].id).toBe("m1");
  });

  it("offers no Reply on a reply, and a single reply reads “1 reply”", async () => {
    const reply = setup({ reply_to: "m0" });
    await reply.user.hover(reply.row);
    expect(names()).not.toContain("Reply");
    cleanup();
    setup({ reply_count: 1 });
    expect(screen.getByRole("button", { name: "1 reply" })).toBeTruthy();
  });
});
