import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JOIN_BACKOFF_FIRST_MS, MAX_BACKGROUND_JOINS } from "./joinPlan";
import { FakeSocket } from "../testing/fakeSocket";


let socket: FakeSocket;
vi.mock("socket.io-client", () => ({ io: () => socket }));

const NAMES = ["general", ...Array.from({ length: 299 }, (_, i) => `room-${String(i).padStart(3, "0")}`)];
const channelOf = (name: string, created_by = "spammer") => ({ name, created_by, created_at: "" });
const joinAck = (channel: string) => ({ ok: true, channel, messages: [], last_seq: 0, members: ["alice"] });
const flush = async () => {
  for (let i = 0; i < 4; i++) await new Promise((r) => setTimeout(r, 0));
};

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
  vi.stubGlobal(
    "fetch",
    vi.fn((url: string) => {
      if (url.includes("/messages")) return Promise.resolve(new Response(JSON.stringify({ messages: [], has_more: false })));
      return Promise.resolve(new Response(JSON.stringify({ channels: NAMES.map((n) => channelOf(n)) })));
    }),
  );
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

async function started() {
  const { ChatClient } = await import("./chatClient");
  const client = new ChatClient("alice", "tok", () => {});
  socket.acks.join = (p) => joinAck(p.channel as string);
  await client.start();
  socket.connect();
  await flush();
  return client;
}

const joined = () => socket.emits.filter((e) => e.event === "join").map((e) => e.payload.channel);
/** What a client joins on connect: the open channel, then MAX_BACKGROUND_JOINS more in list order. */
const FIRST_JOINS = NAMES.slice(0, 1 + MAX_BACKGROUND_JOINS);

describe("ChatClient with 300 channels", () => {
  it("joins the open channel first and a few others, and any other one when it is opened", async () => {
    const client = await started();
    expect(joined()).toEqual(FIRST_JOINS);
    client.select("room-123");
    await flush();
    expect(joined()).toEqual([...FIRST_JOINS, "room-123"]);
    expect(client.getSnapshot().chat.byChannel["room-123"]?.joined).toBe(true);
    client.select("general");
    client.select("room-123"); // opened again: already joined, nothing asked
    await flush();
    expect(joined()).toHaveLength(FIRST_JOINS.length + 1);
  });

  it("joins channels read before first", async () => {
    const marks: Record<string, number> = { "room-250": 7, "room-260": 3 };
    vi.stubGlobal(
      "fetch",
      vi.fn(() =>
        Promise.resolve(
          new Response(
            JSON.stringify({
              channels: NAMES.map((n) => ({ ...channelOf(n), last_seq: marks[n] ?? 0, read_seq: marks[n] ?? 0, unread: 0, mentions: 0 })),
            }),
          ),
        ),
      ),
    );
    await started();
    expect(joined().slice(0, 3)).toEqual(["general", "room-250", "room-260"]);
    expect(joined()).toHaveLength(FIRST_JOINS.length);
  });

  it("does not join a burst of channels others create, but joins its own", async () => {
    await started();
    for (let i = 0; i < 50; i++) socket.fire("channel_created", channelOf(`spam-${i}`));
    socket.fire("channel_created", channelOf("mine", "Alice"));
    await flush();
    expect(joined()).toEqual([...FIRST_JOINS, "mine"]);
  });

  it("rejoins what was open after a reconnect, and no more than the first time", async () => {
    const client = await started();
    client.select("room-207");
    await flush();
    socket.fire("disconnect", "transport close");
    socket.connect();
    await flush();
    const again = joined().slice(FIRST_JOINS.length + 1);
    expect(again.slice(0, 2)).toEqual(["room-207", "general"]);
    expect(again).toHaveLength(FIRST_JOINS.length); // the open one and as many more as before
  });

  it("backs off and retries a join answered rate_limited, without telling the user", async () => {
    const client = await started();
    vi.useFakeTimers();
    let refusals = 2;
    socket.acks.join = (p) =>
      refusals-- > 0
        ? { ok: false, error: { code: "rate_limited", message: "Too many events; slow down" } }
        : joinAck(p.channel as string);
    const before = joined().length;
    client.select("room-200");
    await vi.advanceTimersByTimeAsync(0);
    expect(joined().slice(before)).toEqual(["room-200"]);
    await vi.advanceTimersByTimeAsync(JOIN_BACKOFF_FIRST_MS * 1.25);
    expect(joined().slice(before)).toEqual(["room-200", "room-200"]);
    await vi.advanceTimersByTimeAsync(JOIN_BACKOFF_FIRST_MS); // the second pause is twice as long
    expect(joined().slice(before)).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(JOIN_BACKOFF_FIRST_MS * 1.5);
    expect(joined().slice(before)).toEqual(["room-200", "room-200", "room-200"]);
    expect(client.getSnapshot().chat.byChannel["room-200"]?.joined).toBe(true);
    expect(client.getSnapshot().notice).toBeNull();
  });

  it("lets a deleted channel go, moving to general if it was open", async () => {
    const client = await started();
    client.select("room-050");
    await flush();
    socket.fire("channel_deleted", { name: "room-050", deleted_by: "spammer" });
    await flush();
    const chat = client.getSnapshot().chat;
    expect(chat.channels.map((c) => c.name)).not.toContain("room-050");
    expect(chat.channels).toHaveLength(299);
    expect(chat.current).toBe("general");
  });
});
