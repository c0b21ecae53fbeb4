/** Owns the Socket.IO connection and the chat state; React subscribes to its snapshots. */
import { io, type Socket } from "socket.io-client";
import { channelLabel } from "./access";
import { CatchUps } from "./catchUp";
import { api, ApiError } from "./api";
import { chatReducer, initialState, type ChatAction, type ChatState } from "./chatState";
import { pageHidden, showDesktop } from "./desktopNotify";
import { newClientId, sameUser } from "./ids";
import { MAX_BACKGROUND_JOINS, type JoinOutcome } from "./joinPlan";
import { Joins } from "./joins";
import { ReadSender } from "./readSender";
import { classifyEvent } from "./seqTrack";
import type {
  Ack,
  Channel,
  ChannelEvent,
  ChatNotification,
  ErrorBody,
  JoinAck,
  Message,
  MessageUpdate,
  MyChannel,
  ReadMark,
  SendAck,
  UpdateAck,
  Visibility,
  WatchlistEvent,
} from "./types";
import { Watchlist } from "./watchlist";

export type ConnState = "connecting" | "connected" | "reconnecting" | "offline";

export interface Snapshot {
  chat: ChatState;
  conn: ConnState;
  /** Last problem worth telling the user about (failed join, failed catch-up). */
  notice: string | null;
  /** Shown until dismissed: why a channel went from the list (removed from it, banned). */
  alert: string | null;
}

export type SendResult = { ok: true; command?: boolean } | { ok: false; error: ErrorBody };
/** The outcome of edit, delete, react, unreact, pin, unpin. */
export type ActionResult = { ok: true } | { ok: false; error: ErrorBody };

const ACK_TIMEOUT_MS = 10_000;
const TYPING_THROTTLE_MS = 2_500;
export const TYPING_SHOW_MS = 4_000;

/** Run `fn` before the next frame, or soon when no frames come (a hidden tab, tests in Node). */
function whenIdleFrame(fn: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    fn();
  };
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(once);
  setTimeout(once, 50);
}

export class ChatClient {
  private snapshot: Snapshot;
  private readonly listeners = new Set<() => void>();
  private socket: Socket | null = null;
  private readonly lastTypingSent = new Map<string, number>();
  /** Gaps and a lagging archive: the channel joined again (catchUp.ts). */
  private readonly catchUps = new CatchUps({ join: (channel) => this.join(channel), stopped: () => this.stopped });
  /** What to join and when, one join on the wire per channel (joins.ts). */
  private readonly joins = new Joins({
    chat: () => this.snapshot.chat,
    emitJoin: (payload) => this.emit<JoinAck>("join", payload),
    dispatch: (action) => this.dispatch(action),
    label: (channel) => this.label(channel),
    lose: (channel, why) => this.lose(channel, why),
    notice: (text) => this.set({ notice: text }),
    catchUpLater: (channel) => this.catchUps.retryLater(channel),
    sendRead: (channel) => void this.reads.send(channel),
  });
  /** `read` to the server, throttled per channel (readSender.ts). */
  private readonly reads = new ReadSender({
    chat: () => this.snapshot.chat,
    connected: () => !!this.socket?.connected,
    emitRead: (channel, seq) => this.emit<ReadMark>("read", { channel, seq }),
    dispatch: (action) => this.dispatch(action),
  });
  /** The ticker strip's watchlist; its `watchlist` events come over this client's socket. */
  readonly watchlist = new Watchlist({ get: () => api.watchlist(true), put: (symbols) => api.setWatchlist(symbols) });
  private stopped = false;
  private flushPending = false;
  private readonly cleanups: Array<() => void> = [];

  constructor(
    readonly me: string,
    private readonly token: string | null,
    private readonly onUnauthorized: () => void,
  ) {
    this.snapshot = { chat: initialState(me, !pageHidden()), conn: "connecting", notice: null, alert: null };
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getSnapshot = (): Snapshot => this.snapshot;

  private set(patch: Partial<Snapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    if (this.flushPending) return;
    this.flushPending = true;
    whenIdleFrame(this.flush);
  }

  /**
   * Tell React once per frame, not once per event: a burst of thousands of messages arrives as
   * thousands of socket events, and a render for each one would keep the main thread busy for
   * seconds. The snapshot itself is always current.
   */
  private readonly flush = (): void => {
    this.flushPending = false;
    for (const fn of this.listeners) fn();
  };

  dispatch(action: ChatAction): void {
    const before = this.snapshot.chat;
    const chat = chatReducer(before, action);
    if (chat === before) return;
    this.set({ chat });
    if (chat.read !== before.read || chat.current !== before.current) this.reads.soon();
  }

  async start(): Promise<void> {
    void this.loadRoles();
    try {
      const { channels } = await api.myChannels();
      this.dispatch({ type: "channels_loaded", channels });
      const first = channels.find((c) => c.name === "general") ?? channels[0];
      if (first && !this.snapshot.chat.current) this.select(first.name);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return this.onUnauthorized();
      this.set({ notice: "Could not load channels; retrying when connected." });
    }
    if (this.stopped) return;
    this.connect();
  }

  private connect(): void {
    const socket = io({
      path: "/socket.io/",
      auth: this.token ? { token: this.token } : {},
      withCredentials: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
    });
    this.socket = socket;

    socket.on("connect", () => {
      this.set({ conn: "connected" });
      void this.rejoinAll();
    });
    socket.on("disconnect", (reason) => {
      this.joins.clear();
      this.dispatch({ type: "disconnected" });
      this.set({ conn: navigator.onLine === false ? "offline" : "reconnecting" });
      // The server dropped us on purpose (e.g. logged out elsewhere): check before retrying.
      if (reason === "io server disconnect") void this.recheckSession();
    });
    socket.on("connect_error", (err: Error & { data?: { code?: string } }) => {
      if (err.data?.code === "unauthorized" || err.message === "unauthorized") {
        void this.recheckSession();
        return;
      }
      this.set({ conn: navigator.onLine === false ? "offline" : "reconnecting" });
    });
    socket.on("message", (m: Message) => this.onMessage(m));
    socket.on("message_updated", (u: MessageUpdate) => this.onUpdated(u));
    socket.on("channel_event", (e: ChannelEvent) => this.onChannelEvent(e));
    socket.on("channel_created", (c: Channel) => {
      this.dispatch({ type: "channel_created", channel: c });
      // joined in the background while few are (its first messages then show as unread), else when
      // opened: a spammer's burst of new channels must not become a burst of joins
      const mine = c.created_by.toLowerCase() === this.me.toLowerCase();
      if (mine || this.joins.joinedOrPending() < MAX_BACKGROUND_JOINS + 1) this.joins.request(c.name);
    });
    socket.on("channel_deleted", (d: { name: string }) => {
      this.joins.forget(d.name);
      this.dispatch({ type: "channel_deleted", name: d.name });
    });
    socket.on("presence", (p: { channel: string; user: string; online: boolean }) =>
      this.dispatch({ type: "presence", channel: p.channel, user: p.user, online: p.online }),
    );
    socket.on("typing", (t: { channel: string; user: string }) =>
      this.dispatch({ type: "typing", channel: t.channel, user: t.user, until: Date.now() + TYPING_SHOW_MS }),
    );
    socket.on("read_state", (r: ReadMark) => {
      if (typeof r?.channel === "string" && typeof r.seq === "number") this.dispatch({ type: "read_state", channel: r.channel, seq: r.seq });
    });
    socket.on("notification", (n: ChatNotification) => this.onNotification(n));
    socket.on("watchlist", (w: WatchlistEvent) => this.watchlist.received(w?.symbols));

    // Out of sight, the open channel is not being read (its messages stay unread) and notifications go to the desktop.
    const visibility = () => this.dispatch({ type: "visibility", visible: !pageHidden() });
    document.addEventListener("visibilitychange", visibility);
    this.cleanups.push(() => document.removeEventListener("visibilitychange", visibility));

    // Be honest as soon as the browser knows it is offline, instead of waiting for a ping timeout.
    const offline = () => {
      this.set({ conn: "offline" });
      socket.disconnect();
    };
    const online = () => {
      if (this.stopped) return;
      this.set({ conn: "reconnecting" });
      socket.connect();
    };
    window.addEventListener("offline", offline);
    window.addEventListener("online", online);
    this.cleanups.push(() => {
      window.removeEventListener("offline", offline);
      window.removeEventListener("online", online);
    });
    const tick = window.setInterval(() => this.dispatch({ type: "typing_expire", now: Date.now() }), 1_000);
    this.cleanups.push(() => window.clearInterval(tick));
  }

  /** The signed-in user's site roles, which an admin may have changed while we were away. */
  private async loadRoles(): Promise<void> {
    try {
      const { roles } = await api.me();
      if (roles) this.dispatch({ type: "roles_loaded", roles });
    } catch {
      // Kept as they were; a 401 is the session check's to handle.
    }
  }

  private async recheckSession(): Promise<void> {
    try {
      await api.me();
      if (!this.stopped && this.socket && !this.socket.connected) this.socket.connect();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.onUnauthorized();
    }
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.cleanups.splice(0)) c();
    this.reads.stop();
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    this.listeners.clear();
  }

  private async emit<T>(event: string, payload: unknown): Promise<Ack<T>> {
    const socket = this.socket;
    if (!socket || !socket.connected) {
      return { ok: false, error: { code: "offline", message: "You are offline." } };
    }
    try {
      return (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as Ack<T>;
    } catch {
      return { ok: false, error: { code: "timeout", message: "The server did not answer in time." } };
    }
  }

  /** Connected (again): what changed while away, then the joins. */
  private async rejoinAll(): Promise<void> {
    void this.loadRoles();
    // What was missed while away: the unread counts and marks (with the list) and the inbox, if it was looked at.
    if (this.snapshot.chat.inbox.loaded) void this.loadInbox(false).catch(() => undefined);
    if (this.watchlist.getSnapshot().loaded) void this.watchlist.refresh();
    try {
      const { channels } = await api.myChannels();
      this.dispatch({ type: "channels_loaded", channels });
      const cur = this.snapshot.chat.current;
      if (!cur && channels[0]) this.select((channels.find((c) => c.name === "general") ?? channels[0]).name);
    } catch {
      // Join what we already know about; the list refreshes on the next reconnect.
    }
    this.joins.rejoinAll();
  }

  /** Join (or re-join) a channel, asking only for what we have not seen (new and changed messages). */
  join(channel: string): Promise<JoinOutcome> {
    return this.joins.join(channel);
  }

  private onMessage(m: Message): void {
    if (m.seq === undefined || m.ephemeral) {
      this.dispatch({ type: "message", message: m });
      return;
    }
    this.checkSeq(m.channel, m.seq);
    // An older seq may be a late arrival (sends on two nodes can overtake each other), not a
    // repeat: the merge inserts it in order and drops it only if it is already there.
    this.dispatch({ type: "message", message: m });
  }

  /** A change to a message: it takes the channel's next seq like a new message does. */
  private onUpdated(u: MessageUpdate): void {
    if (!u?.message || typeof u.seq !== "number") return;
    const channel = u.channel ?? u.message.channel;
    this.checkSeq(channel, u.seq);
    this.dispatch({ type: "updated", channel, seq: u.seq, message: u.message });
  }

  /**
   * A change to a channel's members or settings: in the seq stream like messages and changes. One
   * about the signed-in user may change the channel list: added (it appears, joined in the
   * background), removed or banned (it goes, and the user is told why).
   */
  private onChannelEvent(e: ChannelEvent): void {
    if (!e?.channel || typeof e.seq !== "number") return;
    const forMe = !!e.target && sameUser(e.target, this.me);
    if (forMe && (e.kind === "member_removed" || e.kind === "banned")) {
      const label = this.label(e.channel);
      const reason = e.reason ? ` (${e.reason})` : "";
      this.lose(
        e.channel,
        sameUser(e.by, this.me)
          ? `You left ${label}.`
          : e.kind === "banned"
            ? `${e.by} banned you from ${label}${reason}.`
            : `${e.by} removed you from ${label}${reason}.`,
      );
      return;
    }
    this.checkSeq(e.channel, e.seq);
    this.dispatch({ type: "channel_event", event: e });
    if (forMe && e.kind === "member_added") void this.refreshChannels();
  }

  private label(channel: string): string {
    return channelLabel(
      this.snapshot.chat.channels.find((c) => c.name === channel),
      channel,
      this.me,
    );
  }

  /**
   * The channel leaves the list (and the view, if open), with `why` shown until dismissed. A public
   * one comes back with the list's next fetch (a reconnect), to be joined again if the user wishes.
   */
  private lose(channel: string, why: string | null): void {
    this.joins.forget(channel);
    const known = this.snapshot.chat.channels.some((c) => c.name === channel);
    this.dispatch({ type: "channel_deleted", name: channel });
    if (known && why) this.set({ alert: why });
  }

  dismissAlert(): void {
    if (this.snapshot.alert !== null) this.set({ alert: null });
  }

  /** Fetch the channel list again (the user was added somewhere): new ones show as unread and are joined. */
  async refreshChannels(): Promise<void> {
    let channels: MyChannel[];
    try {
      ({ channels } = await api.myChannels());
    } catch {
      return; // the next reconnect lists them
    }
    const known = new Set(this.snapshot.chat.channels.map((c) => c.name));
    const added = channels.filter((c) => !known.has(c.name));
    for (const c of added) this.dispatch({ type: "channel_created", channel: c });
    this.dispatch({ type: "channels_loaded", channels });
    for (const c of added) if (this.joins.joinedOrPending() < MAX_BACKGROUND_JOINS + 1) this.joins.request(c.name);
  }

  /** Over messages and changes together: a seq past the highest seen plus one means we missed some. */
  private checkSeq(channel: string, seq: number): void {
    const st = this.snapshot.chat.byChannel[channel];
    if (!st) return;
    if (classifyEvent(st.seq, seq) === "gap") void this.catchUps.run(channel);
  }

  select(channel: string): void {
    this.dispatch({ type: "select", channel });
    this.joins.open(channel, !!this.socket?.connected);
  }

  async loadOlder(channel: string): Promise<void> {
    const st = this.snapshot.chat.byChannel[channel];
    const first = st?.items.find((i) => i.seq !== undefined)?.seq;
    if (!st?.hasMore || first === undefined) return;
    const page = await api.history(channel, { before: first, limit: 50 });
    this.dispatch({ type: "history", channel, messages: page.messages, hasMore: page.has_more });
  }

  async send(channel: string, text: string, clientId: string = newClientId(), replyTo?: string): Promise<SendResult> {
    const payload = replyTo ? { channel, text, client_id: clientId, reply_to: replyTo } : { channel, text, client_id: clientId };
    // Typed the moment the page connected, before the channel's join came back: the server takes a
    // send only into a joined channel, so this one waits for that join (or makes it).
    if (!this.snapshot.chat.byChannel[channel]?.joined && this.socket?.connected) await this.joins.joinIfNeeded(channel);
    const ack = await this.emit<SendAck>("send", payload);
    if (!ack.ok) {
      this.refused(channel, ack.error);
      return ack;
    }
    // Others drop our typing indicator when the message lands; the next draft announces itself anew.
    this.lastTypingSent.delete(channel);
    if (ack.message) {
      // Shown at once, in seq order; no gap check: the ack can overtake the live feed's messages
      // just before it, which are on their way (a real hole shows in the feed itself); nor does it
      // count as seen in the seq stream: the feed's copy does.
      this.dispatch({ type: "message", message: ack.message, ack: true });
      return { ok: true };
    }
    // Commands are not broadcast; echo them locally so the asker sees what they asked.
    this.dispatch({
      type: "local",
      channel,
      message: { channel, user: this.me, text, ts: new Date().toISOString(), ephemeral: true },
    });
    return { ok: true, command: true };
  }

  private async change(event: string, channel: string, payload: Record<string, unknown>): Promise<ActionResult> {
    const ack = await this.emit<UpdateAck>(event, { channel, ...payload });
    if (!ack.ok) {
      this.refused(channel, ack.error);
      return { ok: false, error: ack.error };
    }
    // Shown at once; the change's own `message_updated` follows (and is no news then).
    if (ack.message) this.dispatch({ type: "updated", channel, message: ack.message });
    return { ok: true };
  }

  /** A refusal that says how things stand: `muted` until when (the composer shows it). */
  private refused(channel: string, error: ErrorBody): void {
    if (error.code === "muted" && error.until) this.dispatch({ type: "muted", channel, until: error.until });
  }

  edit(channel: string, id: string, text: string): Promise<ActionResult> {
    return this.change("edit", channel, { id, text });
  }

  remove(channel: string, id: string): Promise<ActionResult> {
    return this.change("delete", channel, { id });
  }

  react(channel: string, id: string, emoji: string): Promise<ActionResult> {
    return this.change("react", channel, { id, emoji });
  }

  unreact(channel: string, id: string, emoji: string): Promise<ActionResult> {
    return this.change("unreact", channel, { id, emoji });
  }

  pin(channel: string, id: string): Promise<ActionResult> {
    return this.change("pin", channel, { id });
  }

  unpin(channel: string, id: string): Promise<ActionResult> {
    return this.change("unpin", channel, { id });
  }

  /** A thread's replies, all pages; live ones keep coming as `message` events with `reply_to`. */
  async loadThread(channel: string, root: Message): Promise<void> {
    if (!root.id) return;
    const replies: Message[] = [];
    let after = 0;
    for (let guard = 0; guard < 50; guard++) {
      const page = await api.replies(channel, root.id, after, 200);
      replies.push(...page.messages);
      const newest = page.messages.reduce((n, m) => Math.max(n, m.seq ?? 0), after);
      if (!page.has_more || newest <= after) break;
      after = newest;
    }
    this.dispatch({ type: "thread_loaded", channel, root, replies });
  }

  /** The channel's pinned messages; kept current afterwards by pin and unpin changes. */
  async loadPins(channel: string): Promise<void> {
    const { messages } = await api.pins(channel);
    this.dispatch({ type: "pins_loaded", channel, messages });
  }

  typing(channel: string): void {
    const now = Date.now();
    if (now - (this.lastTypingSent.get(channel) ?? 0) < TYPING_THROTTLE_MS) return;
    if (!this.socket?.connected) return;
    this.lastTypingSent.set(channel, now);
    this.socket.emit("typing", { channel });
  }

  async createChannel(name: string, visibility: Visibility = "public"): Promise<Channel> {
    return this.adopt(await api.createChannel(name, visibility));
  }

  /** Open (making it if new) the DM with `username`; the caller selects it. */
  async openDm(username: string): Promise<Channel> {
    return this.adopt(await api.openDm(username));
  }

  /** Topic and slow mode; the channel's event tells everyone else. */
  async updateChannel(name: string, changes: { topic?: string; slow_mode_s?: number }): Promise<Channel> {
    const ch = await api.updateChannel(name, changes);
    this.dispatch({ type: "channel_updated", channel: ch });
    return ch;
  }

  /** A channel the user made or opened: in the list, joined first (the caller opens it, which reads it). */
  private adopt(ch: Channel): Channel {
    this.dispatch({ type: "channel_created", channel: ch });
    this.joins.open(ch.name, true);
    return ch;
  }

  /** A notification: into the inbox and the channel's counts; to the desktop when the page is out of sight. */
  private onNotification(n: ChatNotification): void {
    if (typeof n?.id !== "string") return;
    const known = this.snapshot.chat.inbox.items.some((i) => i.id === n.id);
    this.dispatch({ type: "notification", notification: n });
    if (!known && pageHidden()) {
      showDesktop(n, () => {
        if (n.channel) this.select(n.channel);
      });
    }
  }

  /** The inbox's first page, or (`more`) the page after those held. */
  async loadInbox(more: boolean): Promise<void> {
    const before = more ? this.snapshot.chat.inbox.nextBefore : null;
    if (more && !before) return;
    const page = await api.notifications(before ?? undefined);
    this.dispatch({ type: "inbox_loaded", notifications: page.notifications, nextBefore: page.next_before, more });
  }

  /** The inbox is on screen (its notifications are seen) or closed. */
  setInboxOpen(open: boolean): void {
    this.dispatch({ type: "inbox_open", open });
  }
}
