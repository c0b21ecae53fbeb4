import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CATCH_UP_RETRY_MS } from "./catchUp";
import { unreadFor } from "./readMarks";
import type { Message } from "./types";
import { FakeSocket } from "../testing/fakeSocket";


let socket: FakeSocket;
vi.mock("socket.io-client", () => ({ io: () => socket }));

const msg = (seq: number, user = "bob"): Message => ({
  id: `m${seq}`,
  channel: "general",
  seq,
  user,
  text: `t${seq}`,
  ts: "2026-11-28T09:00:00Z",
});

function joinAck(messages: Message[], last_seq: number) {
  return { ok: true, channel: "general", messages, last_seq, members: ["alice", "bob"] };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  socket = new FakeSocket();
  vi.stubGlobal("window", {
    addEventListener: () => {},
    removeEventListener: () => {},
    setInterval: () => 0,
    clearInterval: () => {},
  });
  vi.stubGlobal("navigator", { onLine: true });
  vi.stubGlobal("document", { visibilityState: "visible", addEventListener: () => {}, removeEventListener: () => {} });
  vi.stubGlobal("sessionStorage", { getItem: () => null, setItem: () => {}, removeItem: () => {} });
  vi.stubGlobal(
    "fetch",
    vi.fn((url: string) => {
      if (url.startsWith("/api/channels/general/messages")) {
        return Promise.resolve(new Response(JSON.stringify({ messages: [], has_more: false }), { status: 200 }));
      }
      return Promise.resolve(
        new Response(JSON.stringify({ channels: [{ name: "general", created_by: "system", created_at: "" }] }), {
          status: 200,
        }),
      );
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
});

async function started() {
  const { ChatClient } = await import("./chatClient");
  const client = new ChatClient("alice", "tok", () => {});
  await client.start();
  socket.acks.join = () => joinAck([msg(1), msg(2)], 2);
  socket.connect();
  await flush();
  await flush();
  return client;
}

const joins = () => socket.emits.filter((e) => e.event === "join").map((e) => e.payload);
const seqs = (client: { getSnapshot: () => { chat: { byChannel: Record<string, { items: { seq?: number }[] }> } } }) =>
  client.getSnapshot().chat.byChannel.general!.items.map((i) => i.seq);

describe("ChatClient", () => {
  it("joins every channel on connect and shows the ack's messages", async () => {
    const client = await started();
    expect(joins()).toEqual([{ channel: "general" }]);
    expect(seqs(client)).toEqual([1, 2]);
    expect(client.getSnapshot().conn).toBe("connected");
  });

  it("asks for what it missed when a live message's seq jumps", async () => {
    const client = await started();
    socket.acks.join = (p) => joinAck(p.after === 2 ? [msg(3), msg(4), msg(5)] : [], 5);
    socket.fire("message", msg(5));
    await flush();
    await flush();
    expect(joins().at(-1)).toEqual({ channel: "general", after: 2 });
    expect(seqs(client)).toEqual([1, 2, 3, 4, 5]);
  });

  it("ignores a message it already has and does not rejoin for the next one", async () => {
    const client = await started();
    socket.fire("message", msg(2));
    socket.fire("message", msg(3));
    await flush();
    expect(joins()).toHaveLength(1);
    expect(seqs(client)).toEqual([1, 2, 3]);
  });

  it("keeps a late message that arrives after a newer one (sends on two nodes can overtake)", async () => {
    const client = await started();
    socket.acks.join = () => joinAck([], 2); // the catch-up saw neither message yet
    socket.fire("message", msg(4));
    socket.fire("message", msg(3));
    await flush();
    expect(seqs(client)).toEqual([1, 2, 3, 4]);
  });

  it("shows its own acked message without a catch-up when the ack overtakes the live feed", async () => {
    const client = await started();
    socket.acks.send = () => ({ ok: true, message: msg(4, "alice") }); // 3 is still on its way
    await client.send("general", "t4");
    expect(seqs(client)).toEqual([1, 2, 4]);
    socket.fire("message", msg(3));
    socket.fire("message", msg(4, "alice")); // our own, from the feed: not shown twice
    await flush();
    expect(joins()).toHaveLength(1);
    expect(seqs(client)).toEqual([1, 2, 3, 4]);
  });

  it("runs another catch-up for a gap seen while one is in flight", async () => {
    const client = await started();
    let release: () => void = () => {};
    const first = new Promise<void>((r) => (release = r));
    socket.acks.join = async (p) => {
      if (p.after === 2) {
        await first;
        return joinAck([msg(3)], 3); // answered before 5 and 6 were posted
      }
      return joinAck(p.after === 4 ? [msg(5), msg(6), msg(7)] : [], 7);
    };
    socket.fire("message", msg(4));
    socket.fire("message", msg(7));
    release();
    for (let i = 0; i < 6; i++) await flush();
    expect(joins().slice(1)).toEqual([
      { channel: "general", after: 2 },
      { channel: "general", after: 4 }, // from the first hole, not from the newest message
    ]);
    expect(seqs(client)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("catches up with join {after} when the connection comes back", async () => {
    const client = await started();
    socket.fire("disconnect", "transport close");
    expect(client.getSnapshot().conn).toBe("reconnecting");
    socket.acks.join = (p) => joinAck(p.after === 2 ? [msg(3)] : [], 3);
    socket.connect();
    await flush();
    await flush();
    expect(joins().at(-1)).toEqual({ channel: "general", after: 2 });
    expect(seqs(client)).toEqual([1, 2, 3]);
    expect(client.getSnapshot().conn).toBe("connected");
  });

  it("tries a catch-up again shortly while the archive is catching up", async () => {
    const client = await started();
    vi.useFakeTimers();
    try {
      let behind = true;
      socket.acks.join = (p) =>
        behind
          ? { ok: false, error: { code: "history_catching_up", message: "Older messages are still being archived" } }
          : joinAck(p.after === 2 ? [msg(3), msg(4)] : [], 4);
      socket.fire("message", msg(4));
      await vi.advanceTimersByTimeAsync(0);
      expect(client.getSnapshot().notice).toContain("still being archived");
      expect(seqs(client)).toEqual([1, 2, 4]);
      behind = false;
      await vi.advanceTimersByTimeAsync(CATCH_UP_RETRY_MS);
      expect(joins().slice(1)).toEqual([
        { channel: "general", after: 2 },
        { channel: "general", after: 2 },
      ]);
      expect(seqs(client)).toEqual([1, 2, 3, 4]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps one catch-up retry per channel however many gaps are seen while the archive is behind", async () => {
    const client = await started();
    vi.useFakeTimers();
    try {
      socket.acks.join = () => ({
        ok: false,
        error: { code: "history_catching_up", message: "Older messages are still being archived" },
      });
      for (const seq of [4, 6, 8]) {
        socket.fire("message", msg(seq)); // each one past the gap after 2 asks for a catch-up
        await vi.advanceTimersByTimeAsync(0);
      }
      const refused = joins().length;
      await vi.advanceTimersByTimeAsync(CATCH_UP_RETRY_MS);
      expect(joins().length - refused).toBe(1);
      await vi.advanceTimersByTimeAsync(CATCH_UP_RETRY_MS);
      expect(joins().length - refused).toBe(2);
      expect(seqs(client)).toEqual([1, 2, 4, 6, 8]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("pages REST changed_after when a catch-up join may have been cut short", async () => {
    const client = await started();
    socket.fire("disconnect", "transport close");
    socket.acks.join = () => joinAck([msg(3)], 4);
    const fetchMock = vi.mocked(fetch);
    fetchMock.mockImplementation((url) => {
      const u = typeof url === "string" ? url : url instanceof URL ? url.href : url.url;
      if (u.includes("/messages?")) {
        expect(u).toContain("changed_after=3");
        return Promise.resolve(new Response(JSON.stringify({ messages: [msg(4)], has_more: false }), { status: 200 }));
      }
      return Promise.resolve(
        new Response(JSON.stringify({ channels: [{ name: "general", created_by: "s", created_at: "" }] }), { status: 200 }),
      );
    });
    socket.connect();
    for (let i = 0; i < 5; i++) await flush();
    expect(seqs(client)).toEqual([1, 2, 3, 4]);
  });

  it("counts message_updated seqs in the stream: no catch-up for a message after a change", async () => {
    const client = await started();
    socket.fire("message_updated", {
      channel: "general",
      seq: 3,
      kind: "edit",
      by: "bob",
      message: { ...msg(1), rev: 3, text: "edited", edited_at: "2026-11-28T09:01:00Z" },
    });
    socket.fire("message", msg(4));
    await flush();
    expect(joins()).toHaveLength(1);
    expect(seqs(client)).toEqual([1, 2, 4]);
    expect(client.getSnapshot().chat.byChannel.general!.items[0]!.text).toBe("edited");
    expect(client.getSnapshot().chat.byChannel.general!.seq).toEqual({ last: 4, synced: 4, ahead: [] });
  });

  it("catches up by rev when a change's seq jumps, upserting changed messages by id", async () => {
    const client = await started();
    socket.acks.join = (p) =>
      joinAck(p.after === 2 ? [{ ...msg(1), rev: 4, text: "", deleted: true }, { ...msg(2), rev: 5, pinned: true }, msg(3)] : [], 5);
    socket.fire("message_updated", { channel: "general", seq: 5, kind: "pin", by: "alice", message: { ...msg(2), rev: 5, pinned: true } });
    await flush();
    await flush();
    expect(joins().at(-1)).toEqual({ channel: "general", after: 2 });
    const items = client.getSnapshot().chat.byChannel.general!.items;
    expect(items.map((i) => [i.seq, i.deleted ?? false, i.pinned ?? false])).toEqual([
      [1, true, false],
      [2, false, true],
      [3, false, false],
    ]);
    expect(client.getSnapshot().chat.byChannel.general!.seq.synced).toBe(5);
  });

  it("pages on with changed_after from the newest change when the catch-up says has_more", async () => {
    const client = await started();
    socket.fire("disconnect", "transport close");
    socket.acks.join = () => ({ ...joinAck([{ ...msg(1), rev: 4, text: "edited" }, msg(3)], 9), has_more: true });
    const asked: string[] = [];
    vi.mocked(fetch).mockImplementation((url) => {
      const u = typeof url === "string" ? url : url instanceof URL ? url.href : url.url;
      if (u.includes("/messages?")) {
        asked.push(u.slice(u.indexOf("?")));
        const page = u.includes("changed_after=4")
          ? { messages: [msg(5), { ...msg(2), rev: 6, deleted: true, text: "" }], has_more: true }
          : { messages: [msg(8)], has_more: false };
        return Promise.resolve(new Response(JSON.stringify(page), { status: 200 }));
      }
      return Promise.resolve(new Response(JSON.stringify({ channels: [{ name: "general", created_by: "s", created_at: "" }] }), { status: 200 }));
    });
    socket.connect();
    for (let i = 0; i < 8; i++) await flush();
    expect(asked).toEqual(["?changed_after=4&limit=200", "?changed_after=6&limit=200"]);
    const g = client.getSnapshot().chat.byChannel.general!;
    expect(g.items.map((i) => [i.seq, i.text])).toEqual([
      [1, "edited"],
      [2, ""],
      [3, "t3"],
      [5, "t5"],
      [8, "t8"],
    ]);
    expect(g.seq.synced).toBe(9);
  });

  it("sends edit, delete, react, unreact, pin and unpin, and shows the acked message", async () => {
    const client = await started();
    socket.acks.edit = (p) => ({ ok: true, message: { ...msg(2), rev: 3, text: p.text, edited_at: "2026-11-28T09:02:00Z" } });
    socket.acks.react = () => ({ ok: false, error: { code: "invalid_emoji", message: "Not an allowed reaction" } });
    expect(await client.edit("general", "m2", "new text")).toEqual({ ok: true });
    expect(socket.emits.find((e) => e.event === "edit")!.payload).toEqual({ channel: "general", id: "m2", text: "new text" });
    expect(client.getSnapshot().chat.byChannel.general!.items[1]!.text).toBe("new text");
    expect(await client.react("general", "m2", "🦄")).toEqual({ ok: false, error: { code: "invalid_emoji", message: "Not an allowed reaction" } });
    await client.remove("general", "m2");
    await client.unreact("general", "m2", "🐂");
    await client.pin("general", "m2");
    await client.unpin("general", "m2");
    expect(socket.emits.map((e) => e.event).slice(-6)).toEqual(["edit", "react", "delete", "unreact", "pin", "unpin"]);
    // an ack is not the change's event: the broadcast with seq 3 is still "next"
    socket.fire("message_updated", { channel: "general", seq: 3, kind: "edit", by: "alice", message: { ...msg(2), rev: 3, text: "new text" } });
    await flush();
    expect(joins()).toHaveLength(1);
  });

  it("sends a reply with reply_to", async () => {
    const client = await started();
    socket.acks.send = (p) => ({ ok: true, message: { ...msg(3, "alice"), text: p.text, reply_to: p.reply_to } });
    await client.send("general", "agreed", "cid-9", "m1");
    expect(socket.emits.find((e) => e.event === "send")!.payload).toEqual({ channel: "general", text: "agreed", client_id: "cid-9", reply_to: "m1" });
    const g = client.getSnapshot().chat.byChannel.general!;
    expect(g.items.map((i) => i.seq)).toEqual([1, 2]);
    expect(g.items[0]!.reply_count).toBe(1);
    expect(g.threads.m1!.replies.map((r) => r.text)).toEqual(["agreed"]);
  });

  it("sends with a client_id and reports error acks", async () => {
    const client = await started();
    socket.acks.send = (p) =>
      p.text === "x".repeat(2001)
        ? { ok: false, error: { code: "message_too_long", message: "Too long" } }
        : { ok: true, message: { ...msg(3, "alice"), text: p.text } };
    expect(await client.send("general", "hi", "cid-1")).toEqual({ ok: true });
    expect(socket.emits.find((e) => e.event === "send")!.payload).toEqual({ channel: "general", text: "hi", client_id: "cid-1" });
    expect(seqs(client)).toEqual([1, 2, 3]);
    const bad = await client.send("general", "x".repeat(2001));
    expect(bad).toEqual({ ok: false, error: { code: "message_too_long", message: "Too long" } });
  });

  it("holds a send typed before the channel's join came back until that join lands, without a second join", async () => {
    const { ChatClient } = await import("./chatClient");
    const client = new ChatClient("alice", "tok", () => {});
    await client.start();
    let answerJoin: (ack: unknown) => void = () => {};
    socket.acks.join = () => new Promise((r) => (answerJoin = r));
    socket.acks.send = (p) => ({ ok: true, message: { ...msg(3, "alice"), text: p.text } });
    socket.connect();
    await flush();
    const sent = client.send("general", "first words");
    await flush();
    expect(socket.emits.map((e) => e.event)).toEqual(["join"]);
    answerJoin(joinAck([msg(1), msg(2)], 2));
    expect(await sent).toEqual({ ok: true });
    expect(socket.emits.map((e) => e.event).filter((e) => e !== "read")).toEqual(["join", "send"]);
    expect(seqs(client)).toEqual([1, 2, 3]);
  });

  it("echoes a command locally, since the server does not broadcast it", async () => {
    const client = await started();
    socket.acks.send = () => ({ ok: true, command: "stock" });
    expect(await client.send("general", "/stock=aapl.us")).toEqual({ ok: true, command: true });
    const last = client.getSnapshot().chat.byChannel.general!.items.at(-1)!;
    expect(last.text).toBe("/stock=aapl.us");
    expect(last.ephemeral).toBe(true);
  });

  it("refuses to send while offline instead of queueing silently", async () => {
    const client = await started();
    socket.disconnect();
    const res = await client.send("general", "hello");
    expect(res.ok).toBe(false);
  });

  it("throttles typing notices", async () => {
    const client = await started();
    client.typing("general");
    client.typing("general");
    expect(socket.emits.filter((e) => e.event === "typing")).toHaveLength(1);
  });
});

describe("ChatClient and channel events", () => {
  const ev = (seq: number, over: Record<string, unknown> = {}) => ({
    seq,
    channel: "general",
    kind: "muted",
    by: "bob",
    ts: "2026-11-28T09:00:00Z",
    target: "carol",
    until: "2026-11-28T09:10:00Z",
    ...over,
  });
  const general = (client: { getSnapshot: () => { chat: { byChannel: Record<string, unknown> } } }) =>
    client.getSnapshot().chat.byChannel.general as { items: { seq?: number; event?: unknown }[]; seq: { synced: number }; mutedUntil: string | null };
  const respond = (routes: Record<string, unknown>) =>
    vi.mocked(fetch).mockImplementation((url, init) => {
      const u = typeof url === "string" ? url : url instanceof URL ? url.href : url.url;
      const key = `${init?.method ?? "GET"} ${u.split("?")[0]}`;
      const body = routes[key] ?? { channels: [{ name: "general", created_by: "system", created_at: "" }] };
      return Promise.resolve(new Response(JSON.stringify(body), { status: key.startsWith("POST") ? 201 : 200 }));
    });

  it("counts channel events in the seq stream: no catch-up after one, one for a gap past it", async () => {
    const client = await started();
    socket.fire("channel_event", ev(3));
    socket.fire("message", msg(4));
    await flush();
    expect(joins()).toHaveLength(1);
    expect(general(client).items.map((i) => [i.seq, !!i.event])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, false],
    ]);
    socket.acks.join = (p) => ({ ...joinAck(p.after === 4 ? [msg(6)] : [], 7), events: [ev(5, { kind: "unmuted", until: null }), ev(7, { kind: "banned" })] });
    socket.fire("channel_event", ev(7, { kind: "banned" }));
    await flush();
    await flush();
    expect(joins().at(-1)).toEqual({ channel: "general", after: 4 });
    expect(general(client).items.map((i) => i.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(general(client).seq.synced).toBe(7);
  });

  it("adds a channel the user was added to (a fresh list), joins it and shows it unread", async () => {
    const client = await started();
    respond({
      "GET /api/me/channels": {
        channels: [
          { name: "general", created_by: "system", created_at: "" },
          { name: "vip", created_by: "bob", created_at: "", visibility: "private", kind: "channel" },
        ],
      },
    });
    socket.acks.join = (p) => ({ ...joinAck([{ ...msg(1), channel: String(p.channel) }], 1), channel: p.channel });
    socket.fire("channel_event", { ...ev(4, { kind: "member_added", target: "ALICE", until: null }), channel: "vip" });
    for (let i = 0; i < 4; i++) await flush();
    const chat = client.getSnapshot().chat;
    expect(chat.channels.map((c) => c.name)).toEqual(["general", "vip"]);
    expect(joins().at(-1)).toEqual({ channel: "vip" });
    expect(unreadFor(chat, "vip").count).toBe(1);
  });

  it("drops the open channel the user was removed from, opens another and says who did it", async () => {
    const client = await started();
    client.dispatch({ type: "channels_loaded", channels: [{ name: "desk", created_by: "bob", created_at: "", visibility: "private" }] });
    client.select("desk");
    await flush();
    socket.fire("channel_event", { ...ev(5, { kind: "member_removed", target: "alice", until: null }), channel: "desk" });
    const snap = client.getSnapshot();
    expect(snap.chat.channels.map((c) => c.name)).toEqual(["general"]);
    expect(snap.chat.current).toBe("general");
    expect(snap.alert).toBe("bob removed you from #desk.");
    client.dismissAlert();
    expect(client.getSnapshot().alert).toBeNull();
  });

  it("tells a banned user why the channel went, and when a join answers banned", async () => {
    const client = await started();
    socket.fire("channel_event", ev(3, { kind: "banned", target: "alice", reason: "spam", until: null }));
    expect(client.getSnapshot().alert).toBe("bob banned you from #general (spam).");
    expect(client.getSnapshot().chat.channels).toEqual([]);

    client.dispatch({ type: "channels_loaded", channels: [{ name: "desk", created_by: "bob", created_at: "" }] });
    socket.acks.join = () => ({ ok: false, error: { code: "banned", message: "You are banned" } });
    client.select("desk");
    for (let i = 0; i < 3; i++) await flush();
    expect(client.getSnapshot().alert).toBe("You are banned from #desk.");
    expect(client.getSnapshot().chat.channels).toEqual([]);

    // a background join (not the open channel) drops it without a word
    client.dismissAlert();
    client.dispatch({ type: "channels_loaded", channels: [{ name: "otc", created_by: "bob", created_at: "" }, { name: "rates", created_by: "bob", created_at: "" }] });
    socket.acks.join = (p) => (p.channel === "otc" ? { ok: false, error: { code: "banned", message: "You are banned" } } : { ...joinAck([], 0), channel: p.channel });
    client.select("rates");
    await client.join("otc");
    expect(client.getSnapshot().chat.channels.map((c) => c.name)).toEqual(["rates"]);
    expect(client.getSnapshot().alert).toBeNull();
  });

  it("keeps the mute a refused send reports, with its end", async () => {
    const client = await started();
    socket.acks.send = () => ({ ok: false, error: { code: "muted", message: "You are muted", until: "2026-11-28T10:00:00Z" } });
    const res = await client.send("general", "hi");
    expect(res.ok).toBe(false);
    expect(general(client).mutedUntil).toBe("2026-11-28T10:00:00Z");
  });

  it("opens a DM through POST /api/dms and joins it first", async () => {
    const client = await started();
    const dm = { name: "dm-0123456789abcdef0123", created_by: "alice", created_at: "", kind: "dm", visibility: "private", members: ["alice", "bob"] };
    respond({ "POST /api/dms": dm });
    socket.acks.join = () => ({ ...joinAck([], 0), channel: dm.name });
    const ch = await client.openDm("bob");
    await flush();
    expect(ch.name).toBe(dm.name);
    const posted = vi.mocked(fetch).mock.calls.find(([u]) => u === "/api/dms")!;
    expect(JSON.parse(posted[1]!.body as string)).toEqual({ username: "bob" });
    expect(client.getSnapshot().chat.channels.map((c) => c.name)).toContain(dm.name);
    expect(joins().at(-1)).toEqual({ channel: dm.name });
  });

  it("creates a private channel with its visibility and shows new settings from a PATCH", async () => {
    const client = await started();
    respond({
      "POST /api/channels": { name: "vip", created_by: "alice", created_at: "", visibility: "private" },
      "PATCH /api/channels/vip": { name: "vip", created_by: "alice", created_at: "", visibility: "private", topic: "t", slow_mode_s: 30 },
    });
    await client.createChannel("vip", "private");
    const posted = vi.mocked(fetch).mock.calls.find(([u, i]) => u === "/api/channels" && i?.method === "POST")!;
    expect(JSON.parse(posted[1]!.body as string)).toEqual({ name: "vip", visibility: "private" });
    await client.updateChannel("vip", { topic: "t", slow_mode_s: 30 });
    expect(client.getSnapshot().chat.channels.find((c) => c.name === "vip")).toMatchObject({ topic: "t", slow_mode_s: 30 });
  });
});
