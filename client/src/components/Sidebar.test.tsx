// @vitest-environment jsdom
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ChatClient } from "../lib/chatClient";
import { chatReducer, initialState, type ChatState } from "../lib/chatState";
import type { Channel, SiteRole } from "../lib/types";
import { fakeFetch } from "../testing/fakeFetch";
import { Sidebar } from "./Sidebar";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const DM: Channel = { name: "dm-0123456789abcdef0123", created_by: "bob", created_at: "", kind: "dm", visibility: "private", members: ["bob", "alice"] };
const CHANNELS: Channel[] = [
  { name: "general", created_by: "system", created_at: "" },
  { name: "vip", created_by: "alice", created_at: "", visibility: "private", kind: "channel" },
  DM,
];

function chatWith(roles: SiteRole[] = ["user"]): ChatState {
  let s = chatReducer(initialState("alice"), { type: "channels_loaded", channels: CHANNELS });
  s = chatReducer(s, { type: "select", channel: "general" });
  return chatReducer(s, { type: "roles_loaded", roles });
}

function setup({ roles = ["user"] as SiteRole[] } = {}) {
  const client = {
    createChannel: vi.fn((name: string, visibility: string) => Promise.resolve({ name, created_by: "alice", created_at: "", visibility })),
    openDm: vi.fn((username: string) => Promise.resolve({ ...DM, name: `dm-with-${username}` })),
  };
  const onSelect = vi.fn();
  const onOpenAdmin = vi.fn();
  const user = userEvent.setup();
  render(
    <Sidebar client={client as unknown as ChatClient} chat={chatWith(roles)} onSelect={onSelect} onLogout={() => {}} onOpenAdmin={onOpenAdmin} />,
  );
  return { client, onSelect, onOpenAdmin, user };
}

describe("Sidebar", () => {
  it("marks private channels with a lock named private and lists DMs apart, by the other person's name", () => {
    setup();
    const channels = screen.getByTestId("channel-list");
    expect(within(channels).getAllByRole("button").map((b) => b.textContent)).toEqual(["#general", "vip"]);
    const vip = within(channels).getByRole("button", { name: /vip/ });
    expect(within(vip).getByRole("img", { name: "private" })).toBeTruthy();
    expect(within(channels).getAllByRole("img", { name: "private" })).toHaveLength(1);
    expect(screen.getByRole("heading", { name: "Direct messages" })).toBeTruthy();
    const dms = screen.getByTestId("dm-list");
    expect(within(dms).getAllByRole("button").map((b) => b.textContent)).toEqual(["bob"]);
    expect(within(dms).getByRole("button").dataset.channel).toBe(DM.name);
  });

  it("creates a private channel when the box is ticked", async () => {
    const { client, onSelect, user } = setup();
    await user.click(screen.getByRole("button", { name: "New channel" }));
    await user.type(screen.getByLabelText("New channel name"), "Deals");
    await user.click(screen.getByRole("checkbox", { name: "Private channel" }));
    expect(screen.getByText("Only the members you add can see it.")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Create" }));
    expect(client.createChannel).toHaveBeenCalledWith("deals", "private");
    await waitFor(() => expect(onSelect).toHaveBeenCalledWith("deals"));
  });

  it("creates a public channel by default", async () => {
    const { client, user } = setup();
    await user.click(screen.getByRole("button", { name: "New channel" }));
    await user.type(screen.getByLabelText("New channel name"), "earnings{Enter}");
    expect(client.createChannel).toHaveBeenCalledWith("earnings", "public");
  });

  it("picks a person for a new DM by name from the keyboard, leaving oneself out, and opens it", async () => {
    const calls = fakeFetch({
      "GET /api/users": (c: { query: URLSearchParams }) => ({
        users: ["alice", "bob", "bobby", "carol"].filter((u) => u.startsWith(c.query.get("prefix") ?? "")).map((username) => ({ username })),
      }),
    });
    const { client, onSelect, user } = setup();
    await user.click(screen.getByRole("button", { name: "New direct message" }));
    const box = screen.getByRole("combobox", { name: "Find a person" });
    expect(document.activeElement).toBe(box);
    await waitFor(() => expect(within(screen.getByRole("listbox", { name: "People" })).getAllByRole("option")).toHaveLength(3));
    await user.type(box, "bo");
    await waitFor(() => expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual(["bob", "bobby"]));
    expect(calls.at(-1)!.query.get("prefix")).toBe("bo");
    expect(box.getAttribute("aria-activedescendant")).toBe(screen.getAllByRole("option")[0]!.id);
    await user.keyboard("{ArrowDown}");
    expect(screen.getByRole("option", { name: "bobby" }).getAttribute("aria-selected")).toBe("true");
    await user.keyboard("{Enter}");
    expect(client.openDm).toHaveBeenCalledWith("bobby");
    await waitFor(() => expect(onSelect).toHaveBeenCalledWith("dm-with-bobby"));
    expect(screen.queryByRole("combobox")).toBeNull();
  });

  it("opens a DM with a click on a person, and cancels with Escape back to its button", async () => {
    fakeFetch({ "GET /api/users": { users: [{ username: "carol" }] } });
    const { client, user } = setup();
    await user.click(screen.getByRole("button", { name: "New direct message" }));
    await user.keyboard("{Escape}");
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "New direct message" }));
    await user.click(screen.getByRole("button", { name: "New direct message" }));
    await user.click(await screen.findByRole("option", { name: "carol" }));
    expect(client.openDm).toHaveBeenCalledWith("carol");
  });

  it("shows the Admin button to site admins and compliance only", async () => {
    const { onOpenAdmin, user } = setup({ roles: ["user", "admin"] });
    await user.click(screen.getByRole("button", { name: "Admin" }));
    expect(onOpenAdmin).toHaveBeenCalled();
    cleanup();
    setup({ roles: ["user", "compliance"] });
    expect(screen.getByRole("button", { name: "Admin" })).toBeTruthy();
    cleanup();
    setup();
    expect(screen.queryByRole("button", { name: "Admin" })).toBeNull();
  });

  it("shows a channel's unread count and, apart, its mentions of me, from the server's read state", () => {
    let chat = chatReducer(initialState("alice"), {
      type: "channels_loaded",
      channels: [
        { name: "general", created_by: "system", created_at: "", last_seq: 3, read_seq: 3, unread: 0, mentions: 0 },
        { name: "desk", created_by: "bob", created_at: "", last_seq: 9, read_seq: 2, unread: 4, mentions: 1 },
        { name: "macro", created_by: "bob", created_at: "", last_seq: 9, read_seq: 2, unread: 120, mentions: 0 },
      ],
    });
    chat = chatReducer(chat, { type: "select", channel: "general" });
    render(<Sidebar client={{} as ChatClient} chat={chat} onSelect={() => {}} onLogout={() => {}} />);
    const desk = screen.getByRole("button", { name: /desk/ });
    expect(desk.textContent).toBe("#desk@1 mention4 unread");
    expect(within(desk).getByTestId("mention-badge").textContent).toBe("@1 mention");
    expect(within(screen.getByRole("button", { name: /macro/ })).getByTestId("unread").textContent).toBe("99+ unread");
    expect(within(screen.getByRole("button", { name: /macro/ })).queryByTestId("mention-badge")).toBeNull();
    expect(within(screen.getByRole("button", { name: /general/ })).queryByTestId("unread")).toBeNull();
  });

  it("has no serious accessibility findings with the person picker open", async () => {
    fakeFetch({ "GET /api/users": { users: [{ username: "bob" }, { username: "carol" }] } });
    const { user } = setup();
    await user.click(screen.getByRole("button", { name: "New direct message" }));
    await screen.findAllByRole("option");
    const res = await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } });
    expect(res.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  });
});
