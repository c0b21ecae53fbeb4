// @vitest-environment jsdom
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { SiteRole } from "../lib/types";
import { fakeFetch } from "../testing/fakeFetch";
import { AdminPage } from "./AdminPage";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const INVITE = { code: "k3y-abc", created_by: "root", created_at: "2026-03-02T14:00:00Z", expires_at: "2026-03-05T14:00:00Z", uses_left: 5 };
const USERS = [
  { username: "root", roles: ["user", "admin"], suspended: false, created_at: "" },
  { username: "bob", roles: ["user"], suspended: false, created_at: "" },
  { username: "mallory", roles: ["user"], suspended: true, created_at: "" },
];
const entry = (id: string, action: string) => ({ id, ts: "2026-03-02T14:00:00Z", actor: "root", action, target: "bob", channel: null, details: {} });

function setup(roles: SiteRole[] = ["user", "admin"]) {
  const calls = fakeFetch({
    "GET /api/invites": { invites: [] },
    "POST /api/invites": INVITE,
    "GET /api/admin/users": (c: { query: URLSearchParams }) => ({ users: USERS.filter((u) => u.username.startsWith(c.query.get("prefix") ?? "")) }),
    "PUT /api/admin/users/bob/roles/compliance": { username: "bob", roles: ["user", "compliance"] },
    "DELETE /api/admin/users/root/roles/admin": { username: "root", roles: ["user"] },
    "POST /api/admin/users/bob/suspend": { username: "bob", suspended: true },
    "DELETE /api/admin/users/mallory/suspend": { username: "mallory", suspended: false },
    "GET /api/admin/archive/heads": { channels: [{ name: "general", last_seq: 3, chain: "a".repeat(64) }] },
    "GET /api/admin/audit": (c: { query: URLSearchParams }) =>
      c.query.get("before") === "e2" ? { entries: [entry("e1", "mute")], next_before: null } : { entries: [entry("e3", "ban"), entry("e2", "kick")], next_before: "e2" },
  });
  const onClose = vi.fn();
  const user = userEvent.setup();
  render(<AdminPage me="root" roles={roles} onClose={onClose} />);
  return { calls, onClose, user };
}
const sent = (calls: { method: string; path: string; body: unknown }[]) => calls.filter((c) => c.method !== "GET").map((c) => [c.method, c.path, c.body]);

describe("AdminPage", () => {
  it("creates an invite with its uses and hours, shows the code and copies it", async () => {
    const { calls, user } = setup(); // user-event puts a clipboard of its own on navigator
    const invites = screen.getByTestId("admin-invites");
    await user.clear(within(invites).getByLabelText("Uses"));
    await user.type(within(invites).getByLabelText("Uses"), "5");
    await user.clear(within(invites).getByLabelText("Valid for (hours)"));
    await user.type(within(invites).getByLabelText("Valid for (hours)"), "24");
    await user.click(within(invites).getByRole("button", { name: "Create invite" }));
    expect((await screen.findByTestId("invite-code")).textContent).toBe("k3y-abc");
    expect(sent(calls)).toEqual([["POST", "/api/invites", { uses: 5, hours: 24 }]]);
    expect(within(invites).getByRole("table", { name: "Invitations" }).textContent).toContain("k3y-abc");
    await user.click(within(invites).getByRole("button", { name: "Copy invite code" }));
    expect(await navigator.clipboard.readText()).toBe("k3y-abc");
    expect(await within(invites).findByText("Copied")).toBeTruthy();
  });

  it("lists users with their roles and suspension, grants and revokes roles, suspends and lifts", async () => {
    const { calls, user } = setup();
    const users = screen.getByTestId("admin-users");
    await waitFor(() => expect(within(users).getAllByTestId("admin-user")).toHaveLength(3));
    expect(within(users).getAllByTestId("admin-user")[2]!.textContent).toContain("suspended");
    // not oneself: an admin cannot lock themselves out by a slip
    expect(within(users).getByRole<HTMLButtonElement>("button", { name: "Suspend root" }).disabled).toBe(true);
    await user.click(within(users).getByRole("button", { name: "Grant compliance to bob" }));
    await within(users).findByRole("button", { name: "Revoke compliance from bob" });
    await user.click(within(users).getByRole("button", { name: "Revoke admin from root" }));
    await within(users).findByRole("button", { name: "Grant admin to root" });
    await user.click(within(users).getByRole("button", { name: "Suspend bob" }));
    await within(users).findByRole("button", { name: "Lift suspension of bob" });
    await user.click(within(users).getByRole("button", { name: "Lift suspension of mallory" }));
    await within(users).findByRole("button", { name: "Suspend mallory" });
    expect(sent(calls)).toEqual([
      ["PUT", "/api/admin/users/bob/roles/compliance", undefined],
      ["DELETE", "/api/admin/users/root/roles/admin", undefined],
      ["POST", "/api/admin/users/bob/suspend", undefined],
      ["DELETE", "/api/admin/users/mallory/suspend", undefined],
    ]);
  });

  it("finds users by the start of their name", async () => {
    const { calls, user } = setup();
    const users = screen.getByTestId("admin-users");
    await user.type(within(users).getByLabelText("Find users"), "ma");
    await waitFor(() => expect(within(users).getAllByTestId("admin-user").map((u) => u.dataset.username)).toEqual(["mallory"]));
    expect(calls.filter((c) => c.path === "/api/admin/users").at(-1)!.query.get("prefix")).toBe("ma");
  });

  it("pages the audit log back with next_before", async () => {
    const { user } = setup();
    const audit = screen.getByTestId("admin-audit");
    await waitFor(() => expect(within(audit).getAllByTestId("audit-entry")).toHaveLength(2));
    await user.click(within(audit).getByRole("button", { name: "Load older entries" }));
    await waitFor(() => expect(within(audit).getAllByTestId("audit-entry")).toHaveLength(3));
    expect(within(audit).getAllByTestId("audit-entry").map((e) => e.textContent)).toEqual([
      expect.stringContaining("ban"),
      expect.stringContaining("kick"),
      expect.stringContaining("mute"),
    ]);
    expect(within(audit).queryByRole("button", { name: "Load older entries" })).toBeNull();
  });

  it("shows compliance the compliance archive and the audit log only, and goes back to the chat", async () => {
    const { calls, onClose, user } = setup(["user", "compliance"]);
    expect(screen.queryByTestId("admin-invites")).toBeNull();
    expect(screen.queryByTestId("admin-users")).toBeNull();
    expect(screen.getByRole("heading", { name: "Compliance archive" })).toBeTruthy();
    await waitFor(() => expect(screen.getAllByTestId("audit-entry")).toHaveLength(2));
    await waitFor(() => expect(screen.getAllByTestId("chain-head")).toHaveLength(1));
    expect(calls.map((c) => c.path).sort()).toEqual(["/api/admin/archive/heads", "/api/admin/audit"]);
    await user.click(screen.getByRole("button", { name: "Back to chat" }));
    expect(onClose).toHaveBeenCalled();
  });

  it("shows site admins the compliance archive beside their own sections", async () => {
    setup(["user", "admin"]);
    expect(screen.getByTestId("admin-invites")).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Compliance archive" })).toBeTruthy();
    expect(screen.getByRole("tablist", { name: "Compliance archive" })).toBeTruthy();
    await waitFor(() => expect(screen.getAllByTestId("chain-head")).toHaveLength(1));
  });

  it("shows a plain user, should one reach the page, no compliance area and asks nothing of the admin API", () => {
    const { calls } = setup(["user"]);
    expect(screen.queryByTestId("compliance")).toBeNull();
    expect(screen.queryByRole("heading", { name: "Compliance archive" })).toBeNull();
    expect(screen.queryByTestId("admin-audit")).toBeNull();
    expect(calls).toEqual([]); // a page's reads start as it renders
  });

  it("has no serious accessibility findings", async () => {
    setup();
    await waitFor(() => expect(screen.getAllByTestId("admin-user")).toHaveLength(3));
    const res = await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } });
    expect(res.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  });
});
