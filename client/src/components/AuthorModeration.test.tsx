// @vitest-environment jsdom
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TimelineItem } from "../lib/messages";
import { fakeFetch } from "../testing/fakeFetch";
import { AuthorModeration } from "./AuthorModeration";
import { MessageActionsContext, type MessageActions } from "./messageActions";
import { MessageRow } from "./MessageRow";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const OK = () => Promise.resolve({ ok: true as const });

function row(user: string, moderateAuthor?: MessageActions["moderateAuthor"]) {
  const actions: MessageActions = { moderates: true, edit: OK, remove: OK, toggleReaction: OK, setPinned: OK, openThread: vi.fn(), moderateAuthor };
  const item: TimelineItem = { id: "m1", key: "m1", anchor: 1, seq: 1, channel: "lobby", user, text: "hi", ts: "2026-03-02T14:30:00Z" };
  render(
    <MessageActionsContext.Provider value={actions}>
      <MessageRow item={item} me="alice" compact={false} />
    </MessageActionsContext.Provider>,
  );
  return userEvent.setup({ skipHover: true });
}

const toolNames = () => within(screen.getByRole("toolbar")).getAllByRole("button").map((b) => b.getAttribute("aria-label"));

describe("a message's author, moderated from the row", () => {
  it("offers Moderate <author> to moderators on others' messages only, and hands the pane the author", async () => {
    const open = vi.fn();
    const user = row("bob", open);
    await user.tab();
    expect(toolNames()).toContain("Moderate bob");
    await user.click(screen.getByRole("button", { name: "Moderate bob" }));
    expect(open).toHaveBeenCalledWith("bob", screen.getByRole("button", { name: "Moderate bob" }));
    cleanup();
    await row("alice", open).tab();
    expect(toolNames().some((n) => n?.startsWith("Moderate"))).toBe(false);
    cleanup();
    await row("bob", undefined).tab();
    expect(toolNames().some((n) => n?.startsWith("Moderate"))).toBe(false);
  });
});

const MEMBERS = { members: [{ username: "alice", role: "owner" }, { username: "carol", role: "member" }] };

function menu(username: string, routes: Record<string, unknown> = {}) {
  const calls = fakeFetch({
    "GET /api/channels/lobby/members": MEMBERS,
    "GET /api/channels/lobby/moderation": { muted: [], banned: [] },
    ...routes,
  });
  const onClose = vi.fn();
  const pick = { username, at: new DOMRect(600, 100, 28, 28), row: null };
  render(<AuthorModeration channel="lobby" pick={pick} appoints onClose={onClose} />);
  return { calls, onClose, user: userEvent.setup() };
}

const items = () => within(screen.getByRole("menu")).getAllByRole("menuitem").map((i) => i.textContent);

describe("AuthorModeration", () => {
  it("reads the author's standing, offers no removal to one who only joined, and mutes through the mutes endpoint", async () => {
    const { calls, user } = menu("bob", { "POST /api/channels/lobby/mutes": { username: "bob", until: "2099-01-01T00:00:00Z" } });
    await screen.findByRole("menu", { name: "Moderate bob" });
    expect(items()).toEqual(["Mute for 10 minutes", "Mute for 1 hour", "Mute for 1 day", "Make moderator", "Ban"]);
    expect(document.activeElement).toBe(screen.getAllByRole("menuitem")[0]);
    await user.click(screen.getByRole("menuitem", { name: "Mute for 10 minutes" }));
    expect((await screen.findByRole("status")).textContent).toBe("bob is muted.");
    expect(calls.filter((c) => c.method !== "GET").map((c) => [c.method, c.path, c.body])).toEqual([
      ["POST", "/api/channels/lobby/mutes", { username: "bob", minutes: 10 }],
    ]);
  });

  it("offers a member's removal and a muted author's unmute, bans through the bans endpoint, and says a refusal", async () => {
    const { user } = menu("carol", {
      "GET /api/channels/lobby/moderation": { muted: [{ username: "carol", until: "2099-01-01T00:00:00Z" }], banned: [] },
      "POST /api/channels/lobby/bans": { status: 403, error: { code: "forbidden", message: "You may not do that here" } },
    });
    await screen.findByRole("menu");
    expect(items()).toEqual(["Unmute", "Make moderator", "Remove from channel", "Ban"]);
    await user.click(screen.getByRole("menuitem", { name: "Ban" }));
    expect((await screen.findByRole("alert")).textContent).toBe("You may not do that here");
  });

  it("says an owner is not moderated, and closes on Escape", async () => {
    const { user, onClose } = menu("alice");
    await waitFor(() => expect(screen.getByRole("status").textContent).toContain("owners are not moderated"));
    expect(screen.queryByRole("menu")).toBeNull();
    await user.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalled();
  });

  it("has no serious accessibility findings", async () => {
    menu("bob");
    await screen.findByRole("menu");
    const res = await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } });
    expect(res.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  });
});
