// @vitest-environment jsdom
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../testing/fakeFetch";
import { MembersButton } from "./MembersPanel";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const MEMBERS = {
  members: [
    { username: "carol", role: "member" },
    { username: "alice", role: "owner" },
    { username: "bob", role: "moderator" },
    { username: "dave", role: "member" },
  ],
};

function setup({ moderates = true, appoints = true, privateChannel = true, me = "alice", routes = {}, present = [] as string[] } = {}) {
  const calls = fakeFetch({
    "GET /api/channels/desk/members": MEMBERS,
    "GET /api/channels/desk/moderation": { muted: [{ username: "dave", until: "2099-03-02T14:10:00Z" }], banned: ["eve"] },
    ...routes,
  });
  const user = userEvent.setup();
  const view = render(
    <MembersButton channel="desk" place="#desk" me={me} moderates={moderates} appoints={appoints} privateChannel={privateChannel} rosterRev={0} present={present} />,
  );
  const open = async () => {
    await user.click(screen.getByRole("button", { name: "Members" }));
    const panel = screen.getByRole("dialog", { name: "Members of #desk" });
    await within(panel).findByText("carol");
    return panel;
  };
  return { calls, user, view, open };
}

const rows = () => screen.getAllByTestId("member").map((li) => li.dataset.username);
const sent = (calls: { method: string; path: string; body: unknown }[]) => calls.filter((c) => c.method !== "GET").map((c) => [c.method, c.path, c.body]);

describe("MembersButton", () => {
  it("lists the members, owner then moderators then members, with their role badges and who is muted", async () => {
    const { open } = setup();
    const panel = await open();
    expect(rows()).toEqual(["alice", "bob", "carol", "dave"]);
    expect(within(panel).getAllByTestId("role-badge").map((b) => b.textContent)).toEqual(["owner", "moderator"]);
    const dave = screen.getAllByTestId("member")[3]!;
    expect(dave.textContent).toContain("muted until");
  });

  it("offers no moderation to those who do not moderate, nor on the owner or oneself", async () => {
    const { open, calls } = setup({ moderates: false, appoints: false, me: "carol" });
    await open();
    expect(screen.queryAllByRole("button", { name: /^Moderate/ })).toEqual([]);
    expect(calls.some((c) => c.path.endsWith("/moderation"))).toBe(false);
    expect(screen.queryByLabelText("Add member")).toBeNull();
    cleanup();
    const mod = setup({ me: "alice" });
    await mod.open();
    expect(screen.getAllByRole("button", { name: /^Moderate/ }).map((b) => b.getAttribute("aria-label"))).toEqual([
      "Moderate bob",
      "Moderate carol",
      "Moderate dave",
    ]);
  });

  it("mutes for 10 minutes, 1 hour or 1 day, unmutes, kicks, bans and appoints through the right endpoints", async () => {
    const { open, user, calls } = setup({
      routes: {
        "POST /api/channels/desk/mutes": (c: { body: unknown }) => ({ username: "carol", until: "2099-01-01T00:00:00Z", ...(c.body as object) }),
        "DELETE /api/channels/desk/mutes/dave": null,
        "DELETE /api/channels/desk/members/carol": null,
        "POST /api/channels/desk/bans": { username: "carol" },
        "PUT /api/channels/desk/members/carol": { username: "carol", role: "moderator" },
        "PUT /api/channels/desk/members/bob": { username: "bob", role: "member" },
      },
    });
    await open();
    const choose = async (who: string, item: string) => {
      await user.click(screen.getByRole("button", { name: `Moderate ${who}` }));
      const menu = screen.getByRole("menu", { name: `Moderate ${who}` });
      await user.click(within(menu).getByRole("menuitem", { name: item }));
      await waitFor(() => expect(screen.queryByRole("menu")).toBeNull());
    };
    await choose("carol", "Mute for 10 minutes");
    await choose("carol", "Mute for 1 hour");
    await choose("carol", "Mute for 1 day");
    await choose("dave", "Unmute");
    await choose("carol", "Make moderator");
    await choose("bob", "Remove moderator");
    await choose("carol", "Remove from channel");
    await choose("carol", "Ban");
    await waitFor(() => expect(sent(calls)).toHaveLength(8));
    expect(sent(calls)).toEqual([
      ["POST", "/api/channels/desk/mutes", { username: "carol", minutes: 10 }],
      ["POST", "/api/channels/desk/mutes", { username: "carol", minutes: 60 }],
      ["POST", "/api/channels/desk/mutes", { username: "carol", minutes: 1440 }],
      ["DELETE", "/api/channels/desk/mutes/dave", undefined],
      ["PUT", "/api/channels/desk/members/carol", { role: "moderator" }],
      ["PUT", "/api/channels/desk/members/bob", { role: "member" }],
      ["DELETE", "/api/channels/desk/members/carol", undefined],
      ["POST", "/api/channels/desk/bans", { username: "carol" }],
    ]);
  }, 20_000); // eight menus opened and chosen from, each a few dozen simulated events

  it("leaves out making moderators for a moderator, and says when the server refuses", async () => {
    const { open, user } = setup({
      appoints: false,
      me: "bob",
      routes: { "POST /api/channels/desk/bans": { status: 403, error: { code: "forbidden", message: "You may not do that here" } } },
    });
    await open();
    await user.click(screen.getByRole("button", { name: "Moderate carol" }));
    const items = within(screen.getByRole("menu")).getAllByRole("menuitem").map((i) => i.textContent);
    expect(items).toEqual(["Mute for 10 minutes", "Mute for 1 hour", "Mute for 1 day", "Remove from channel", "Ban"]);
    await user.click(screen.getByRole("menuitem", { name: "Ban" }));
    expect((await screen.findByRole("alert")).textContent).toBe("You may not do that here");
  });

  it("works from the keyboard: the menu takes focus, arrows move, Escape goes back to its button", async () => {
    const { open, user } = setup();
    await open();
    const button = screen.getByRole("button", { name: "Moderate carol" });
    button.focus();
    await user.keyboard("{Enter}");
    const items = within(screen.getByRole("menu")).getAllByRole("menuitem");
    expect(document.activeElement).toBe(items[0]);
    await user.keyboard("{ArrowDown}");
    expect(document.activeElement).toBe(items[1]);
    await user.keyboard("{ArrowUp}{ArrowUp}");
    expect(document.activeElement).toBe(items.at(-1));
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("menu")).toBeNull();
    expect(document.activeElement).toBe(button);
    // a second Escape closes the panel, back on the members button
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Members" }));
  });

  it("adds a member to a private channel, and lists the muted and banned with unmute and unban", async () => {
    const { open, user, calls } = setup({
      routes: {
        "PUT /api/channels/desk/members/frank": { username: "frank", role: "member" },
        "DELETE /api/channels/desk/bans/eve": null,
        "DELETE /api/channels/desk/mutes/dave": null,
      },
    });
    await open();
    await user.type(screen.getByLabelText("Add member"), "frank{Enter}");
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("frank was added."));
    expect(screen.getByLabelText<HTMLInputElement>("Add member").value).toBe("");
    const moderation = screen.getByTestId("moderation");
    await user.click(within(moderation).getByRole("button", { name: "Unban eve" }));
    await user.click(within(moderation).getByRole("button", { name: "Unmute dave" }));
    await waitFor(() => expect(sent(calls)).toHaveLength(3));
    expect(sent(calls)).toEqual([
      ["PUT", "/api/channels/desk/members/frank", {}],
      ["DELETE", "/api/channels/desk/bans/eve", undefined],
      ["DELETE", "/api/channels/desk/mutes/dave", undefined],
    ]);
  });

  it("offers no Add member in a public channel, and reloads when an event changes the roster", async () => {
    const { open, calls, view } = setup({ privateChannel: false });
    await open();
    expect(screen.queryByLabelText("Add member")).toBeNull();
    const loads = () => calls.filter((c) => c.path.endsWith("/members")).length;
    expect(loads()).toBe(1);
    view.rerender(<MembersButton channel="desk" place="#desk" me="alice" moderates appoints privateChannel={false} rosterRev={1} present={[]} />);
    await waitFor(() => expect(loads()).toBe(2));
  });

  it("lists who joined a public channel without a member row, with a menu that mutes, bans and appoints but does not remove", async () => {
    const { open, user, calls } = setup({
      privateChannel: false,
      present: ["alice", "Bob", "carol", "gina", "hal"],
      routes: {
        "GET /api/channels/desk/moderation": { muted: [{ username: "hal", until: "2099-03-02T14:10:00Z" }], banned: [] },
        "POST /api/channels/desk/mutes": { username: "gina", until: "2099-01-01T00:00:00Z" },
        "DELETE /api/channels/desk/mutes/hal": null,
        "POST /api/channels/desk/bans": { username: "gina" },
        "PUT /api/channels/desk/members/gina": { username: "gina", role: "moderator" },
      },
    });
    await open();
    // alice (oneself), bob and carol are members: only gina and hal are listed apart
    const also = screen.getByRole("list", { name: "Also in the channel" });
    expect(within(also).getAllByTestId("visitor").map((li) => li.dataset.username)).toEqual(["gina", "hal"]);
    expect(within(also).getAllByTestId("visitor")[1]!.textContent).toContain("muted until");
    await user.click(within(also).getByRole("button", { name: "Moderate gina" }));
    expect(within(screen.getByRole("menu")).getAllByRole("menuitem").map((i) => i.textContent)).toEqual([
      "Mute for 10 minutes",
      "Mute for 1 hour",
      "Mute for 1 day",
      "Make moderator",
      "Ban",
    ]);
    await user.click(screen.getByRole("menuitem", { name: "Mute for 1 hour" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("gina is muted."));
    const choose = async (who: string, item: string) => {
      await user.click(within(also).getByRole("button", { name: `Moderate ${who}` }));
      await user.click(within(screen.getByRole("menu")).getByRole("menuitem", { name: item }));
      await waitFor(() => expect(screen.queryByRole("menu")).toBeNull());
    };
    await choose("hal", "Unmute");
    await choose("gina", "Make moderator");
    await choose("gina", "Ban");
    await waitFor(() => expect(sent(calls)).toHaveLength(4));
    expect(sent(calls)).toEqual([
      ["POST", "/api/channels/desk/mutes", { username: "gina", minutes: 60 }],
      ["DELETE", "/api/channels/desk/mutes/hal", undefined],
      ["PUT", "/api/channels/desk/members/gina", { role: "moderator" }],
      ["POST", "/api/channels/desk/bans", { username: "gina" }],
    ]);
  }, 20_000);

  it("lists nobody apart to those who do not moderate, nor in a private channel", async () => {
    setup({ privateChannel: false, moderates: false, appoints: false, me: "carol", present: ["carol", "gina"] });
    await screen.findByRole("button", { name: "Members" });
    await userEvent.setup().click(screen.getByRole("button", { name: "Members" }));
    await screen.findByText("dave");
    expect(screen.queryByRole("list", { name: "Also in the channel" })).toBeNull();
    cleanup();
    const priv = setup({ present: ["alice", "gina"] });
    await priv.open();
    expect(screen.queryByRole("list", { name: "Also in the channel" })).toBeNull();
  });

  it("has no serious accessibility findings with its menu open", async () => {
    const { open, user } = setup({ privateChannel: false, present: ["alice", "gina"] });
    await open();
    await user.click(screen.getByRole("button", { name: "Moderate carol" }));
    expect(screen.getByRole("list", { name: "Also in the channel" })).toBeTruthy();
    const res = await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } });
    expect(res.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  });
});
