// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeFetch } from "../testing/fakeFetch";
import { AuthScreen } from "./AuthScreen";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

async function register(answer: unknown, invite = "") {
  const calls = fakeFetch({ "POST /api/register": answer });
  const onSignedIn = vi.fn();
  const user = userEvent.setup();
  render(<AuthScreen onSignedIn={onSignedIn} />);
  await user.click(screen.getByRole("tab", { name: "Register" }));
  await user.type(screen.getByLabelText("Username"), "dave");
  await user.type(screen.getByLabelText("Password"), "long enough pw");
  if (invite) await user.type(screen.getByLabelText(/Invite code/), invite);
  await user.click(screen.getByRole("button", { name: "Create account" }));
  return { calls, onSignedIn };
}

describe("AuthScreen registration by invitation", () => {
  it("has an optional invite code field when registering only, sent as `invite` when given", async () => {
    const { calls, onSignedIn } = await register({ username: "dave", token: "t" }, " k3y-abc ");
    expect(calls[0]!.body).toEqual({ username: "dave", password: "long enough pw", invite: "k3y-abc" });
    expect(onSignedIn).toHaveBeenCalledWith({ username: "dave", token: "t" });
    cleanup();
    const plain = await register({ username: "dave", token: "t" });
    expect(plain.calls[0]!.body).toEqual({ username: "dave", password: "long enough pw" });
    cleanup();
    render(<AuthScreen onSignedIn={() => {}} />);
    expect(screen.queryByLabelText(/Invite code/)).toBeNull();
  });

  it("marks the invite field when the server wants a valid code", async () => {
    await register({ status: 403, error: { code: "invite_required", message: "invite required" } }, "spent");
    const field = screen.getByLabelText(/Invite code/);
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("alert").textContent).toBe("This server registers by invitation: enter a valid, unused invite code.");
    expect(document.activeElement).toBe(field);
  });

  it("says plainly when registration is closed", async () => {
    await register({ status: 403, error: { code: "registration_closed", message: "closed" } });
    expect(screen.getByRole("alert").textContent).toBe("Registration is closed on this server. Ask an administrator for an account.");
  });
});
