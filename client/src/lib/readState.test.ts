import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatClient } from "./chatClient";
import { unreadFor } from "./readMarks";
import type { ChatNotification, Message, MyChannel } from "./types";
import { myChannel } from "../testing/channels";
import { fakeFetch, type Call } from "../testing/fakeFetch";
import { FakeSocket } from "../testing/fakeSocket";

let socket: FakeSocket;
vi.mock("socket.io-client", () => ({ io: () => socket }));

const msg = (channel: string, seq: number, user = "bob", over: Partial<Message> = {}): Message => ({
  id: `${channel}-${seq}`,
  channel,
  seq,
  user,
  text: `t${seq}`,
  ts: "2026-11-28T09:00:00Z",
  ...over,
});
const mention = (id: string, seq: number): ChatNotification => ({
  id,
  kind: "mention",
  channel: "desk",
  text: "bob mentioned you in #desk: @alice look",
  ts: "2026-11-28T09:00:00Z",
  message: msg("desk", seq, "bob", { text: "@alice look", mentions: ["alice"] }),
});

class FakeNotification {
  static permission: NotificationPermission = "granted";
  static shown: FakeNotification[] = [];
  onclick: (() => void) | null = null;
  constructor(
    readonly title: string,
    readonly options: NotificationOptions,
  ) {
    FakeNotification.shown.push(this);
  }
  close() {}
}

let page: { visibilityState: DocumentVisibilityState; listeners: Array<() => void> };
let lists: MyChannel[][];
let calls: Call[];
const flush = async () => {
  for (let i = 0; i < 4; i++) await Promise.resolve();
};

beforeEach(() => {
  socket = new FakeSocket();
  page = { visibilityState: "visible", listeners: [] };
  FakeNotification.shown = [];
  FakeNotification.permission = "granted";
  vi.stubGlobal("window", {
    addEventListener: () => {},
    removeEventListener: () => {},
    setInterval: () => 0,
    clearInterval: () => {},
    focus: vi.fn(),
    Notification: FakeNotification,
  });
  vi.stubGlobal("navigator", { onLine: true });
  vi.stubGlobal("document", {
    get visibilityState() {
      return page.visibilityState;
    },
    addEventListener: (_: string, fn: () => void) => page.listeners.push(fn),
    removeEventListener: () => {},
  });
  vi.stubGlobal("sessionStorage", { getItem: () => null, setItem: () => {}, removeItem: () => {} });
  // Each GET /api/me/channels answers the next list (the last one again once they run out).
  lists = [[myChannel("general", 2), myChannel("desk", 9, { read_seq: 4, unread: 3, mentions: 1 })]];
  calls = fakeFetch({
    "GET /api/me/channels": () => ({ channels: lists.length > 1 ? lists.shift() : lists[0] }),
    "GET /api/me/notifications": (c: Call) =>
      c.query.get("before")
        ? { notifications: [mention("n01", 5)], next_before: null }
        : { notifications: [mention("n03", 7), mention("n02", 6)], next_before: "n02" },
  });
  socket.acks.join = (p) => ({ ok: true, channel: p.channel, messages: [], last_seq: p.channel === "general" ? 2 : 9, members: [] });
  socket.acks.read = (p) => ({ ok: true, channel: p.channel, seq: p.seq });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

async function started(): Promise<ChatClient> {
  const { ChatClient } = await import("./chatClient");
  const client = new ChatClient("alice", "tok", () => {});
  await client.start();
  socket.connect();
  await vi.advanceTimersByTimeAsync(0);
  return client;
}

const reads = () => socket.emits.filter((e) => e.event === "read").map((e) => e.payload);
const chat = (client: ChatClient) => client.getSnapshot().chat;
const setVisible = (visible: boolean) => {
  page.visibilityState = visible ? "visible" : "hidden";
  for (const fn of page.listeners) fn();
};

describe("ChatClient read state", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it("takes badges from GET /api/me/channels and sends read for the channel being looked at, forward only", async () => {
    const client = await started();
    expect(calls.filter((c) => c.path === "/api/channels")).toEqual([]);
    expect(unreadFor(chat(client), "desk")).toEqual({ count: 3, mentions: 1 });
    expect(reads()).toEqual([]); // general was read up to 2 already
    socket.fire("message", msg("general", 3));
    await flush();
    expect(reads()).toEqual([{ channel: "general", seq: 3 }]);
    expect(chat(client).read.general).toMatchObject({ seq: 3, stored: 3 });
    socket.fire("message", msg("general", 3)); // again: no news
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reads()).toHaveLength(1);
  });

  it("sends read at most once a second per channel, with the newest seq by then", async () => {
    const client = await started();
    for (const seq of [3, 4, 5]) socket.fire("message", msg("general", seq));
    await flush();
    expect(reads()).toEqual([{ channel: "general", seq: 3 }]);
    await vi.advanceTimersByTimeAsync(500);
    socket.fire("message", msg("general", 6, "alice"));
    await vi.advanceTimersByTimeAsync(499);
    expect(reads()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads()).toEqual([
      { channel: "general", seq: 3 },
      { channel: "general", seq: 6 },
    ]);
    expect(chat(client).read.general!.stored).toBe(6);
  });

  it("moves the mark when another device read the channel, and clears its badges", async () => {
    const client = await started();
    socket.fire("read_state", { channel: "desk", seq: 9 });
    expect(unreadFor(chat(client), "desk")).toEqual({ count: 0, mentions: 0 });
    expect(reads()).toEqual([]); // the server knows; nothing to tell it
  });

  it("counts live messages by others in other channels, a mention in the mention badge", async () => {
    const client = await started();
    await client.join("desk");
    socket.fire("message", msg("desk", 10, "bob", { mentions: ["alice"] }));
    socket.fire("message", msg("desk", 11, "alice"));
    socket.fire("message", msg("desk", 12, "carol"));
    expect(unreadFor(chat(client), "desk")).toEqual({ count: 5, mentions: 2 });
    client.select("desk");
    await flush();
    expect(unreadFor(chat(client), "desk")).toEqual({ count: 0, mentions: 0 });
    expect(chat(client).newAfter).toBe(4);
    expect(reads().at(-1)).toEqual({ channel: "desk", seq: 12 });
  });

  it("takes the counts afresh from the list on every reconnect", async () => {
    const client = await started();
    const before = calls.filter((c) => c.path === "/api/me/channels").length;
    lists = [[myChannel("general", 2), myChannel("desk", 14, { read_seq: 4, unread: 8, mentions: 2 })]];
    socket.fire("disconnect", "transport close");
    socket.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.filter((c) => c.path === "/api/me/channels")).toHaveLength(before + 1);
    expect(unreadFor(chat(client), "desk")).toEqual({ count: 8, mentions: 2 });
  });

  it("tells the server where the user first saw a channel made live, so what comes later stays unread", async () => {
    const client = await started();
    socket.acks.join = (p) => ({ ok: true, channel: p.channel, messages: [], last_seq: 0, members: [] });
    socket.fire("channel_created", { name: "ideas", created_by: "bob", created_at: "" });
    await vi.advanceTimersByTimeAsync(0);
    expect(reads()).toEqual([{ channel: "ideas", seq: 0 }]);
    expect(chat(client).read.ideas!.stored).toBe(0);
    socket.fire("message", msg("ideas", 1));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reads()).toHaveLength(1); // not being looked at: not read
    expect(unreadFor(chat(client), "ideas").count).toBe(1);
  });

  it("does not read while the page is hidden, and reads what came when it is back", async () => {
    const client = await started();
    setVisible(false);
    socket.fire("message", msg("general", 3));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reads()).toEqual([]);
    setVisible(true);
    await flush();
    expect(reads()).toEqual([{ channel: "general", seq: 3 }]);
    expect(chat(client).newAfter).toBe(2);
  });
});

describe("ChatClient notifications", () => {
  it("puts a live notification in the inbox and the channel's counts, unseen until the inbox is opened", async () => {
    vi.useFakeTimers();
    const client = await started();
    socket.fire("notification", mention("n10", 12));
    socket.fire("notification", mention("n10", 12)); // once however often it comes
    expect(chat(client).inbox.items.map((n) => n.id)).toEqual(["n10"]);
    expect(chat(client).inbox.unseen).toBe(1);
    expect(unreadFor(chat(client), "desk")).toEqual({ count: 4, mentions: 2 });
    expect(FakeNotification.shown).toEqual([]); // the page is in sight
    client.setInboxOpen(true);
    expect(chat(client).inbox.unseen).toBe(0);
  });

  it("shows a desktop notification when the page is hidden and the user allowed it; a click opens its channel", async () => {
    vi.useFakeTimers();
    const client = await started();
    setVisible(false);
    socket.fire("notification", mention("n11", 12));
    expect(FakeNotification.shown.map((n) => [n.title, n.options.body, n.options.tag])).toEqual([
      ["investor-chat", "bob mentioned you in #desk: @alice look", "n11"],
    ]);
    FakeNotification.shown[0]!.onclick!();
    expect(chat(client).current).toBe("desk");
    FakeNotification.permission = "default";
    socket.fire("notification", mention("n12", 13));
    expect(FakeNotification.shown).toHaveLength(1);
    expect(chat(client).inbox.unseen).toBe(2);
  });

  it("loads the inbox and pages on with next_before", async () => {
    vi.useFakeTimers();
    const client = await started();
    socket.fire("notification", mention("n04", 8));
    await client.loadInbox(false);
    await client.loadInbox(true);
    expect(calls.filter((c) => c.path === "/api/me/notifications").map((c) => c.query.get("before"))).toEqual([null, "n02"]);
    expect(chat(client).inbox.items.map((n) => n.id)).toEqual(["n04", "n03", "n02", "n01"]);
    await client.loadInbox(true); // at the end: nothing asked
    expect(calls.filter((c) => c.path === "/api/me/notifications")).toHaveLength(2);
  });
});
