// @vitest-environment jsdom
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ChatClient } from "../lib/chatClient";
import type { Channel } from "../lib/types";
import { ChannelSettingsButton } from "./ChannelSettings";

afterEach(() => cleanup());

describe("ChannelSettingsButton", () => {
  function setup(fail = false) {
    const updateChannel = vi.fn(() => (fail ? Promise.reject(new Error("Topic too long")) : Promise.resolve({} as Channel)));
    const user = userEvent.setup();
    render(<ChannelSettingsButton client={{ updateChannel } as unknown as ChatClient} channel="desk" place="#desk" topic="Old" slowModeS={0} />);
    return { updateChannel, user };
  }

  it("saves only what changed: the topic and slow mode", async () => {
    const { updateChannel, user } = setup();
    await user.click(screen.getByRole("button", { name: "Channel settings" }));
    const dialog = screen.getByRole("dialog", { name: "Settings of #desk" });
    const topic = within(dialog).getByLabelText("Topic");
    expect(document.activeElement).toBe(topic);
    await user.clear(topic);
    await user.type(topic, "Q1 earnings");
    await user.selectOptions(within(dialog).getByLabelText("Slow mode"), "One message every 30 s");
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    expect(updateChannel).toHaveBeenCalledWith("desk", { topic: "Q1 earnings", slow_mode_s: 30 });
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Channel settings" }));
  });

  it("keeps the form open with the server's refusal, and closes on Escape without saving", async () => {
    const { updateChannel, user } = setup(true);
    await user.click(screen.getByRole("button", { name: "Channel settings" }));
    await user.type(screen.getByLabelText("Topic"), "!");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Topic too long");
    expect(await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } }).then((r) => r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id))).toEqual([]);
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(updateChannel).toHaveBeenCalledTimes(1);
  });
});
