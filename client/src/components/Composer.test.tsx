// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { ComponentProps } from "react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ChatClient, SendResult } from "../lib/chatClient";
import { formatAsOf } from "../lib/format";
import { quoteStore } from "./CashtagChip";
import { Composer } from "./Composer";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const OK: SendResult = { ok: true };

type Extra = Partial<Pick<ComponentProps<typeof Composer>, "mutedUntil" | "slowModeS" | "slowExempt">>;

function setup({ online = true, result = (): Promise<SendResult> => Promise.resolve(OK), extra = {} } = {}) {
  const send = vi.fn<ChatClient["send"]>(() => result());
  const typing = vi.fn<ChatClient["typing"]>();
  const client = { send, typing } as unknown as ChatClient;
  const user = userEvent.setup();
  const view = render(<Composer client={client} channel="general" online={online} {...extra} />);
  const box = screen.getByRole<HTMLTextAreaElement>("textbox", { name: "Message #general" });
  const button = screen.getByRole<HTMLButtonElement>("button", { name: "Send message" });
  const goOnline = () => view.rerender(<Composer client={client} channel="general" online />);
  const rerender = (props: Extra) => view.rerender(<Composer client={client} channel="general" online {...props} />);
  return { send, typing, user, box, button, goOnline, rerender };
}

describe("Composer", () => {
  it("is labelled by its channel and is ready to type in when it opens", () => {
    const { box } = setup();
    expect(box.placeholder).toBe("Message #general");
    expect(document.activeElement).toBe(box);
  });

  it("sends on Enter, then clears the box for the next message", async () => {
    const { send, user, box } = setup();
    await user.type(box, "hello world{Enter}");
    expect(send).toHaveBeenCalledTimes(1);
    expect(send).toHaveBeenCalledWith("general", "hello world", expect.any(String));
    await waitFor(() => expect(box.value).toBe(""));
    expect(document.activeElement).toBe(box);
  });

  it("starts a new line on Shift+Enter and sends both lines on Enter", async () => {
    const { send, user, box } = setup();
    await user.type(box, "line one{Shift>}{Enter}{/Shift}line two");
    expect(box.value).toBe("line one\nline two");
    expect(send).not.toHaveBeenCalled();
    await user.keyboard("{Enter}");
    expect(send).toHaveBeenCalledWith("general", "line one\nline two", expect.any(String));
  });

  it("sends on a click of the send button", async () => {
    const { send, user, box, button } = setup();
    await user.type(box, "clicked");
    expect(button.disabled).toBe(false);
    await user.click(button);
    expect(send).toHaveBeenCalledWith("general", "clicked", expect.any(String));
  });

  it("does not send an empty or blank message, and its button stays disabled", async () => {
    const { send, user, box, button } = setup();
    expect(button.disabled).toBe(true);
    await user.keyboard("{Enter}");
    await user.type(box, "   {Enter}");
    expect(send).not.toHaveBeenCalled();
    expect(button.disabled).toBe(true);
  });

  it("keeps a draft written offline and sends it once the connection is back", async () => {
    const { send, user, box, button, goOnline } = setup({ online: false });
    expect(box.placeholder).toBe("Offline — write now, send when connected…");
    await user.type(box, "draft{Enter}");
    expect(send).not.toHaveBeenCalled();
    expect(box.value).toBe("draft");
    expect(button.disabled).toBe(true);
    goOnline();
    expect(button.disabled).toBe(false);
    await user.click(box);
    await user.keyboard("{Enter}");
    expect(send).toHaveBeenCalledWith("general", "draft", expect.any(String));
  });

  it("shows the server's refusal, keeps the text, and clears the error on the next keystroke", async () => {
    const { user, box } = setup({
      result: () => Promise.resolve({ ok: false, error: { code: "rate_limited", message: "Slow down: too many messages" } }),
    });
    await user.type(box, "hello{Enter}");
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("Slow down: too many messages");
    expect(box.value).toBe("hello");
    expect(box.getAttribute("aria-invalid")).toBe("true");
    expect(box.getAttribute("aria-describedby")).toContain(alert.id);
    await user.type(box, "!");
    expect(screen.queryByRole("alert")).toBeNull();
    expect(box.getAttribute("aria-invalid")).toBeNull();
  });

  it("shows the error code when the refusal has no message", async () => {
    const { user, box } = setup({ result: () => Promise.resolve({ ok: false, error: { code: "not_member", message: "" } }) });
    await user.type(box, "hello{Enter}");
    expect((await screen.findByRole("alert")).textContent).toBe("not_member");
  });

  it("resends a failed draft under the same id, so it cannot post twice, and a new message gets a new id", async () => {
    const results: SendResult[] = [{ ok: false, error: { code: "timeout", message: "No answer" } }, OK, OK];
    const { send, user, box } = setup({ result: () => Promise.resolve(results.shift()!) });
    await user.type(box, "hello{Enter}");
    await screen.findByRole("alert");
    await user.keyboard("{Enter}");
    await waitFor(() => expect(box.value).toBe(""));
    await user.type(box, "next{Enter}");
    expect(send.mock.calls.map((c) => c[1])).toEqual(["hello", "hello", "next"]);
    const [first, retry, next] = send.mock.calls.map((c) => c[2]);
    expect(retry).toBe(first);
    expect(next).not.toBe(first);
  });

  it("sends once while a send is on its way, however often Enter is pressed", async () => {
    let finish: (r: SendResult) => void = () => {};
    const { send, user, box, button } = setup({ result: () => new Promise<SendResult>((resolve) => (finish = resolve)) });
    await user.type(box, "hello{Enter}");
    expect(button.disabled).toBe(true);
    await user.keyboard("{Enter}{Enter}");
    expect(send).toHaveBeenCalledTimes(1);
    await act(async () => {
      finish(OK);
      await send.mock.results[0]!.value;
    });
    expect(box.value).toBe("");
  });

  it("counts down near the 2000-character limit, in code points as the server does", async () => {
    const { user, box } = setup();
    await user.type(box, "short");
    expect(screen.queryByText(/characters left/)).toBeNull();
    await user.clear(box);
    await user.paste("a".repeat(1801));
    expect(screen.getByText("199 characters left")).toBeTruthy();
    await user.clear(box);
    // Each emoji is two UTF-16 units but one code point.
    await user.paste("📈".repeat(1995));
    expect(screen.getByText("5 characters left")).toBeTruthy();
  });

  it("refuses a message over the limit and says by how much", async () => {
    const { send, user, box, button } = setup();
    await user.click(box);
    await user.paste("a".repeat(2003));
    expect(screen.getByText("3 characters over the limit")).toBeTruthy();
    expect(button.disabled).toBe(true);
    expect(box.getAttribute("aria-invalid")).toBe("true");
    await user.keyboard("{Enter}");
    expect(send).not.toHaveBeenCalled();
    await user.keyboard("{Backspace}{Backspace}{Backspace}");
    expect(screen.getByText("0 characters left")).toBeTruthy();
    await user.keyboard("{Enter}");
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]![1]).toHaveLength(2000);
  });

  it("tells the channel someone is typing, but not for a command", async () => {
    const { typing, user, box } = setup();
    await user.type(box, "/stock=aapl.us");
    expect(typing).not.toHaveBeenCalled();
    await user.clear(box);
    await user.type(box, "hi");
    expect(typing).toHaveBeenCalledWith("general");
  });

  it("asks for the draft's cashtag quotes once the writer pauses", async () => {
    vi.useFakeTimers();
    const ensure = vi.spyOn(quoteStore, "ensure").mockImplementation(() => {});
    const { box } = setup();
    fireEvent.change(box, { target: { value: "long $aapl" } });
    await act(() => vi.advanceTimersByTimeAsync(300));
    fireEvent.change(box, { target: { value: "long $aapl, short $msft" } });
    await act(() => vi.advanceTimersByTimeAsync(499));
    expect(ensure).not.toHaveBeenCalled();
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(ensure.mock.calls).toEqual([["AAPL"], ["MSFT"]]);
  });

  describe("muted and slowed", () => {
    const at = new Date("2026-03-02T14:00:00Z");
    // With fake timers: keys as plain events (user-event waits on real ones), and a turn for the send to settle.
    const write = (box: HTMLTextAreaElement, text: string) => fireEvent.change(box, { target: { value: text } });
    const enter = async (box: HTMLTextAreaElement) => {
      fireEvent.keyDown(box, { key: "Enter" });
      await act(() => vi.advanceTimersByTimeAsync(0));
    };

    it("says until when one is muted, counts down, keeps the text and sends again once the mute ends", async () => {
      vi.useFakeTimers({ now: at, toFake: ["Date", "setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
      const until = "2026-03-02T14:10:00Z";
      const { send, box, button } = setup({ extra: { mutedUntil: until } });
      const notice = screen.getByTestId("muted-notice");
      expect(notice.textContent).toContain(`You are muted in #general until ${formatAsOf(until, at)}`);
      expect(notice.textContent).toContain("10:00 left");
      write(box, "held");
      await enter(box);
      expect(send).not.toHaveBeenCalled();
      expect(button.disabled).toBe(true);
      expect(box.value).toBe("held");
      await act(() => vi.advanceTimersByTimeAsync(65_000));
      expect(screen.getByTestId("muted-notice").textContent).toContain("8:55 left");
      await act(() => vi.advanceTimersByTimeAsync(9 * 60_000));
      expect(screen.queryByTestId("muted-notice")).toBeNull();
      expect(button.disabled).toBe(false);
      await enter(box);
      expect(send).toHaveBeenCalledWith("general", "held", expect.any(String));
    });

    it("shows the mute a refused send reports (the client keeps it) instead of an error", async () => {
      const { user, box, rerender } = setup({
        result: () => Promise.resolve({ ok: false, error: { code: "muted", message: "You are muted", until: "2099-01-01T00:00:00Z" } }),
      });
      await user.type(box, "hello{Enter}");
      await waitFor(() => expect(screen.queryByRole("alert")).toBeNull());
      rerender({ mutedUntil: "2099-01-01T00:00:00Z" });
      expect(screen.getByTestId("muted-notice")).toBeTruthy();
      expect(box.value).toBe("hello");
    });

    it("counts down the server's retry_after when slow mode refuses, then sends the kept text", async () => {
      vi.useFakeTimers({ now: at, toFake: ["Date", "setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
      const results: SendResult[] = [{ ok: false, error: { code: "slow_mode", message: "Slow mode", retry_after: 12.4 } }, OK];
      const { send, box, button } = setup({ result: () => Promise.resolve(results.shift()!) });
      write(box, "again");
      await enter(box);
      const notice = screen.getByTestId("slow-mode-notice");
      expect(notice.textContent).toBe("Slow mode: you can send again in 13 s");
      expect(box.value).toBe("again");
      expect(button.disabled).toBe(true);
      await act(() => vi.advanceTimersByTimeAsync(5_000));
      expect(screen.getByTestId("slow-mode-notice").textContent).toBe("Slow mode: you can send again in 8 s");
      await enter(box);
      expect(send).toHaveBeenCalledTimes(1);
      await act(() => vi.advanceTimersByTimeAsync(8_000));
      expect(screen.queryByTestId("slow-mode-notice")).toBeNull();
      await enter(box);
      expect(send).toHaveBeenCalledTimes(2);
    });

    it("starts the slow-mode wait after a message goes, unless one is exempt", async () => {
      const { user, box } = setup({ extra: { slowModeS: 30 } });
      await user.type(box, "first{Enter}");
      expect((await screen.findByTestId("slow-mode-notice")).textContent).toBe("Slow mode: you can send again in 30 s");
      cleanup();
      const exempt = setup({ extra: { slowModeS: 30, slowExempt: true } });
      await exempt.user.type(exempt.box, "first{Enter}");
      await waitFor(() => expect(exempt.box.value).toBe(""));
      expect(screen.queryByTestId("slow-mode-notice")).toBeNull();
    });

    it("says plainly when the user is banned, keeping the text", async () => {
      const { user, box } = setup({ result: () => Promise.resolve({ ok: false, error: { code: "banned", message: "banned" } }) });
      await user.type(box, "hello{Enter}");
      expect((await screen.findByRole("alert")).textContent).toBe("You are banned from #general: your message was not sent.");
      expect(box.value).toBe("hello");
    });
  });
});
