/** The chat's state and the pure reducer that every socket event and REST answer goes through. */
import { changesRoster, effectOnMe, eventItem } from "./channelEvents";
import {
  appendLocal,
  capItems,
  firstSeqOf,
  insertItem,
  lastSeqOf,
  mergeMessages,
  replaceItem,
  supersedes,
  toItem,
  type TimelineItem,
} from "./messages";
import { usableChannelName } from "./joinPlan";
import { caughtUp, emptyTrack, observe, type SeqTrack } from "./seqTrack";
import type { Channel, ChannelEvent, ChannelRole, JoinAck, Message, MyChannel, ChatNotification, SiteRole } from "./types";
import {
  fromServer,
  moveMark,
  noteNotification,
  NOTHING_UNREAD,
  unreadFromStart,
  unreadOf,
  type ReadState,
  type Unread,
} from "./unread";

export interface ThreadState {
  /** The root as it was when the thread was opened, kept current by changes to it. */
  root?: TimelineItem;
  /** Replies known, in seq order: those loaded with the thread and those seen live. */
  replies: TimelineItem[];
  /** Loaded from the replies endpoint (else only live replies are known). */
  loaded: boolean;
}

export interface ChannelState {
  /** The channel's own timeline: messages that are not replies (those live in `threads`). */
  items: TimelineItem[];
  /** Older history exists before the first loaded message. */
  hasMore: boolean;
  joined: boolean;
  members: string[];
  /** Seqs seen over messages and changes together (seqTrack.ts): gaps and catch-up. */
  seq: SeqTrack;
  /** Root id -> its thread. */
  threads: Record<string, ThreadState>;
  /** Pinned messages in seq order; null until loaded. */
  pins: TimelineItem[] | null;
  /** The signed-in user's role here (from the join, then its events); null: none, or not joined yet. */
  role: ChannelRole | null;
  /** When the signed-in user's mute here ends (ISO 8601); null when not muted. */
  mutedUntil: string | null;
  /** Counts the events that changed the members or their standing: an open members list reloads on it. */
  rosterRev: number;
}

/** The notifications inbox: pages loaded from GET /api/me/notifications and live ones before them. */
export interface InboxState {
  /** Newest first. */
  items: ChatNotification[];
  /** Where the next page starts; null at the end. */
  nextBefore: string | null;
  /** The first page has been loaded. */
  loaded: boolean;
  /** Live notifications since the inbox was last looked at: the bell's count and the tab title's. */
  unseen: number;
  /** Open on screen (what arrives while the page is visible is seen at once). */
  open: boolean;
}

export interface ChatState {
  me: string;
  /** The signed-in user's site roles (GET /api/me). */
  roles: SiteRole[];
  channels: Channel[];
  byChannel: Record<string, ChannelState>;
  current: string | null;
  /** Channel -> the user's read state there (unread.ts), from the server and live since. */
  read: Record<string, ReadState>;
  /** The open channel's "new messages" line goes above its first message after this seq; null: none. */
  newAfter: number | null;
  /** The page is visible (document.visibilityState): only then is the open channel being read. */
  visible: boolean;
  inbox: InboxState;
  /** channel -> user -> epoch ms until which "is typing" shows. */
  typing: Record<string, Record<string, number>>;
}

export type ChatAction =
  /** The channel list; from GET /api/me/channels each channel also brings the user's read state in it. */
  | { type: "channels_loaded"; channels: Channel[] | MyChannel[] }
  | { type: "channel_created"; channel: Channel }
  /** The channel is gone for this user: deleted, or out of their reach (removed from it, banned). */
  | { type: "channel_deleted"; name: string }
  /** A channel's new settings (the answer to a PATCH). */
  | { type: "channel_updated"; channel: Channel }
  | { type: "roles_loaded"; roles: SiteRole[] }
  /** A live `channel_event`. */
  | { type: "channel_event"; event: ChannelEvent }
  /** The server refused a send as `muted` until then. */
  | { type: "muted"; channel: string; until: string }
  | { type: "select"; channel: string }
  /** `after`: the catch-up point asked for; `complete`: false when REST pages must still fill it in. */
  | { type: "joined"; ack: JoinAck; after?: number; complete?: boolean }
  | { type: "disconnected" }
  /** `ack`: from our own send's acknowledgement, which does not count in the seq stream. */
  | { type: "message"; message: Message; ack?: boolean }
  /** A changed message (`message_updated`, or an action's ack, which has no `seq`). */
  | { type: "updated"; channel: string; message: Message; seq?: number }
  | { type: "local"; channel: string; message: Message }
  | { type: "history"; channel: string; messages: Message[]; hasMore?: boolean }
  /** A page of `changed_after` catch-up; `lastSeq` once the catch-up is complete up to it. */
  | { type: "changes"; channel: string; messages: Message[]; lastSeq?: number }
  | { type: "thread_loaded"; channel: string; root: Message; replies: Message[] }
  | { type: "pins_loaded"; channel: string; messages: Message[] }
  | { type: "presence"; channel: string; user: string; online: boolean }
  | { type: "typing"; channel: string; user: string; until: number }
  | { type: "typing_expire"; now: number }
  /** The server holds the mark at `seq` (`read_state` from another device, or our `read`'s ack). */
  | { type: "read_state"; channel: string; seq: number }
  | { type: "visibility"; visible: boolean }
  | { type: "notification"; notification: ChatNotification }
  /** A page of the inbox; `more`: it follows the pages held, else it is the first. */
  | { type: "inbox_loaded"; notifications: ChatNotification[]; nextBefore: string | null; more: boolean }
  | { type: "inbox_open"; open: boolean };

/**
 * Live messages kept per channel: past this the oldest are dropped (and `hasMore` set, so
 * scrolling up loads them again), keeping memory and work flat in a channel that never sleeps.
 */
export const MAX_KEPT = 3000;

export const emptyChannel = (): ChannelState => ({
  items: [],
  hasMore: false,
  joined: false,
  members: [],
  seq: emptyTrack(),
  threads: {},
  pins: null,
  role: null,
  mutedUntil: null,
  rosterRev: 0,
});

const bySeq = (a: TimelineItem, b: TimelineItem) => (a.seq ?? 0) - (b.seq ?? 0);

/** Upsert into a small seq-ordered list (a thread's replies, the pins); the same array when unchanged. */
function upsertSorted(list: TimelineItem[], msg: Message, counted: number | undefined): TimelineItem[] {
  if (typeof msg.seq !== "number") return list;
  const i = list.findIndex((x) => x.seq === msg.seq || (msg.id !== undefined && x.id === msg.id));
  if (i >= 0) {
    const held = list[i]!;
    if (!supersedes(held, msg, counted)) return list;
    const copy = list.slice();
    copy[i] = replaceItem(held, msg as Message & { seq: number }, counted);
    return copy;
  }
  return [...list, toItem(msg as Message & { seq: number }, counted)].sort(bySeq);
}

/** Index of the item with this id, looking from the newest (replies and changes are mostly recent). */
function indexOfId(items: readonly TimelineItem[], id: string): number {
  for (let i = items.length - 1; i >= 0; i--) if (items[i]!.id === id) return i;
  return -1;
}

/**
 * Take stored messages into a channel: roots into the timeline, replies into their threads (a
 * reply not seen before that the root's count does not include yet adds one to it), pinned ones
 * into the pins. `counted`: the seq the messages' reply counts are current as of. `insertOld`:
 * whether a message older than the first one held is inserted (history pages) or only updated
 * where held (changes, which must not leave a hole in the loaded timeline).
 */
export function applyMessages(
  c: ChannelState,
  messages: readonly Message[],
  counted: number | undefined,
  insertOld: boolean,
): ChannelState {
  let items = c.items;
  let threads = c.threads;
  let pins = c.pins;
  const roots: Message[] = [];
  const first = firstSeqOf(items);
  for (const m of messages) {
    if (typeof m.seq !== "number" || m.ephemeral) continue;
    if (m.reply_to) continue;
    if (insertOld || !c.hasMore || first === undefined || m.seq >= first || indexOfId(items, m.id ?? "") >= 0) roots.push(m);
  }
  if (roots.length) items = mergeMessages(items, roots, counted);
  for (const m of messages) {
    if (typeof m.seq !== "number" || m.ephemeral) continue;
    if (m.reply_to) {
      const root = m.reply_to;
      const thread = threads[root] ?? { replies: [], loaded: false };
      const isNew = !thread.replies.some((r) => r.id === m.id || r.seq === m.seq);
      const replies = upsertSorted(thread.replies, m, counted);
      if (replies !== thread.replies) threads = { ...threads, [root]: { ...thread, replies } };
      if (isNew) {
        const bump = (r: TimelineItem): TimelineItem =>
          m.seq! > (r.counted ?? r.seq ?? 0) ? { ...r, reply_count: (r.reply_count ?? 0) + 1 } : r;
        const i = indexOfId(items, root);
        if (i >= 0) {
          const next = bump(items[i]!);
          if (next !== items[i]) {
            items = items === c.items ? items.slice() : items;
            items[i] = next;
          }
        }
        const t = threads[root];
        if (t?.root) {
          const next = bump(t.root);
          if (next !== t.root) threads = { ...threads, [root]: { ...t, root: next } };
        }
      }
    } else if (m.id && threads[m.id]?.root) {
      const t = threads[m.id]!;
      if (supersedes(t.root!, m, counted)) {
        threads = { ...threads, [m.id]: { ...t, root: replaceItem(t.root!, m as Message & { seq: number }, counted) } };
      }
    }
    if (pins !== null) {
      if (m.pinned && !m.deleted) pins = upsertSorted(pins, m, counted);
      else if (pins.some((p) => p.id === m.id)) pins = pins.filter((p) => p.id !== m.id);
    }
  }
  if (items === c.items && threads === c.threads && pins === c.pins) return c;
  return { ...c, items, threads, pins };
}

/** A thread as shown: its root (the timeline's copy when held, else the one kept with the thread) and replies. */
export function threadOf(c: ChannelState, rootId: string): { root: TimelineItem | undefined; replies: TimelineItem[]; loaded: boolean } {
  const t = c.threads[rootId];
  const i = indexOfId(c.items, rootId);
  return { root: i >= 0 ? c.items[i] : t?.root, replies: t?.replies ?? [], loaded: t?.loaded ?? false };
}

export function initialState(me: string, visible = true): ChatState {
  return {
    me,
    roles: ["user"],
    channels: [],
    byChannel: {},
    current: null,
    read: {},
    newAfter: null,
    visible,
    inbox: { items: [], nextBefore: null, loaded: false, unseen: 0, open: false },
    typing: {},
  };
}

/**
 * Take a channel event into a channel: its line in the timeline (unless it is older than the loaded
 * history, which would leave a hole), its seq in the stream when `live` (a join's events are covered by
 * its `last_seq`), and what it changes for `me`.
 */
export function applyEvent(c: ChannelState, ev: ChannelEvent, me: string, live: boolean): ChannelState {
  const seq = live ? observe(c.seq, ev.seq) : c.seq;
  const first = firstSeqOf(c.items);
  const fits = !c.hasMore || first === undefined || ev.seq >= first;
  const items = fits ? insertItem(c.items, eventItem(ev)) : c.items;
  if (fits && items === c.items) return seq === c.seq ? c : { ...c, seq }; // seen already
  const effect = effectOnMe(ev, me);
  return {
    ...c,
    seq,
    items,
    role: effect.role !== undefined ? effect.role : c.role,
    mutedUntil: effect.mutedUntil !== undefined ? effect.mutedUntil : c.mutedUntil,
    rosterRev: changesRoster(ev) ? c.rosterRev + 1 : c.rosterRev,
  };
}

/** A settings event's new topic and slow mode, onto the channel in the list. */
function withSettings(state: ChatState, ev: ChannelEvent): ChatState {
  if (ev.kind !== "settings_changed" || !ev.changes) return state;
  const { topic, slow_mode_s } = ev.changes;
  return replaceChannel(state, ev.channel, (c) => ({
    ...c,
    ...(topic !== undefined ? { topic } : {}),
    ...(slow_mode_s !== undefined ? { slow_mode_s } : {}),
  }));
}

function replaceChannel(state: ChatState, name: string, fn: (c: Channel) => Channel): ChatState {
  const i = state.channels.findIndex((c) => c.name === name);
  if (i < 0) return state;
  const channels = state.channels.slice();
  channels[i] = fn(channels[i]!);
  return { ...state, channels };
}

function sortChannels(channels: Channel[]): Channel[] {
  return [...channels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function withChannel(state: ChatState, name: string, fn: (c: ChannelState) => ChannelState): ChatState {
  const before = state.byChannel[name] ?? emptyChannel();
  const after = fn(before);
  if (after === before && state.byChannel[name]) return state;
  return { ...state, byChannel: { ...state.byChannel, [name]: after } };
}

/** The channel of a GET /api/me/channels entry, without the user's counts (which go stale). */
function channelOf(c: Channel | MyChannel): Channel {
  const { name, created_by, created_at, visibility, kind, topic, slow_mode_s, members } = c;
  const out: Channel = { name, created_by, created_at };
  if (visibility !== undefined) out.visibility = visibility;
  if (kind !== undefined) out.kind = kind;
  if (topic !== undefined) out.topic = topic;
  if (slow_mode_s !== undefined) out.slow_mode_s = slow_mode_s;
  if (members !== undefined) out.members = members;
  return out;
}

const hasReadState = (c: Channel | MyChannel): c is MyChannel => typeof (c as Partial<MyChannel>).read_seq === "number";

function withRead(state: ChatState, name: string, fn: (r: ReadState) => ReadState): ChatState {
  const before = state.read[name] ?? unreadFromStart();
  const after = fn(before);
  if (after === before) return state;
  return { ...state, read: { ...state.read, [name]: after } };
}

/** Keep the open channel read up to the newest seq seen in it, while the user can see it. */
function readCurrent(state: ChatState): ChatState {
  const cur = state.current;
  if (!cur || !state.visible) return state;
  const c = state.byChannel[cur];
  if (!c) return state;
  const seen = Math.max(c.seq.last, lastSeqOf(c.items));
  return withRead(state, cur, (r) => moveMark(r, seen, c, state.me));
}

/** Where the "new messages" line of `channel` goes: after the mark, when anything after it is unread. */
function newAfterIn(state: ChatState, channel: string): number | null {
  const r = state.read[channel];
  return r && unreadOf(r, state.byChannel[channel], state.me).count > 0 ? r.seq : null;
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "channels_loaded": {
      const known = new Map(state.channels.map((c) => [c.name, c]));
      let read = state.read;
      for (const c of action.channels) {
        if (!usableChannelName(c.name)) continue;
        known.set(c.name, channelOf(c));
        if (hasReadState(c)) {
          if (read === state.read) read = { ...read };
          read[c.name] = fromServer(c, state.read[c.name], state.byChannel[c.name], state.me);
        }
      }
      return readCurrent({ ...state, read, channels: sortChannels([...known.values()]) });
    }
    case "channel_created": {
      if (!usableChannelName(action.channel.name)) return state;
      if (state.channels.some((c) => c.name === action.channel.name)) return state;
      // A brand-new channel: everything in it will be unread.
      const read = action.channel.name in state.read ? state.read : { ...state.read, [action.channel.name]: unreadFromStart() };
      return { ...state, read, channels: sortChannels([...state.channels, action.channel]) };
    }
    case "channel_deleted": {
      if (!state.channels.some((c) => c.name === action.name)) return state;
      const channels = state.channels.filter((c) => c.name !== action.name);
      const byChannel = { ...state.byChannel };
      delete byChannel[action.name];
      const read = { ...state.read };
      delete read[action.name];
      const fallback = channels.find((c) => c.name === "general") ?? channels[0];
      const moved = state.current === action.name;
      const current = moved ? (fallback?.name ?? null) : state.current;
      const next = { ...state, channels, byChannel, read, current };
      return readCurrent(moved ? { ...next, newAfter: current ? newAfterIn(next, current) : null } : next);
    }
    case "channel_updated":
      return replaceChannel(state, action.channel.name, (c) => ({ ...c, ...action.channel }));
    case "roles_loaded":
      return { ...state, roles: action.roles };
    case "channel_event": {
      const ev = action.event;
      // Not joined: the join's catch-up brings the event in its place; only the settings are news now.
      if (!state.byChannel[ev.channel]?.joined) return withSettings(state, ev);
      const next = withSettings(
        withChannel(state, ev.channel, (c) => applyEvent(c, ev, state.me, true)),
        ev,
      );
      return next.current === ev.channel ? readCurrent(next) : next;
    }
    case "muted":
      return withChannel(state, action.channel, (c) => (c.mutedUntil === action.until ? c : { ...c, mutedUntil: action.until }));
    case "select":
      if (action.channel === state.current) return readCurrent(state);
      return readCurrent({ ...state, current: action.channel, newAfter: newAfterIn(state, action.channel) });
    case "joined": {
      const { ack } = action;
      const events = ack.events ?? [];
      let next = withChannel(state, ack.channel, (c) => {
        let applied = applyMessages(c, ack.messages, ack.last_seq, action.after === undefined);
        for (const ev of events) applied = applyEvent(applied, ev, state.me, false);
        const first = firstSeqOf(applied.items);
        const seq =
          action.complete === false ? { ...c.seq, last: Math.max(c.seq.last, ack.last_seq) } : caughtUp(c.seq, ack.last_seq);
        return {
          ...applied,
          hasMore: first !== undefined ? first > 1 : false,
          joined: true,
          members: [...new Set(ack.members)].sort((a, b) => a.localeCompare(b)),
          seq,
          // The ack's own word is the current one; its events may be older.
          role: ack.role !== undefined ? ack.role : applied.role,
          mutedUntil: ack.muted_until !== undefined ? ack.muted_until : applied.mutedUntil,
        };
      });
      for (const ev of events) next = withSettings(next, ev);
      return next.current === ack.channel ? readCurrent(next) : next;
    }
    case "disconnected": {
      const byChannel: Record<string, ChannelState> = {};
      for (const [k, v] of Object.entries(state.byChannel)) byChannel[k] = { ...v, joined: false, members: [] };
      return { ...state, byChannel, typing: {} };
    }
    case "message": {
      const m = action.message;
      if (m.seq === undefined || m.ephemeral) {
        return withChannel(state, m.channel, (c) => ({ ...c, items: appendLocal(c.items, m) }));
      }
      const next = withChannel(state, m.channel, (c) => {
        const seq = action.ack ? c.seq : observe(c.seq, m.seq!);
        const applied = applyMessages(c, [m], m.seq, false);
        if (applied === c) return seq === c.seq ? c : { ...c, seq };
        const items = capItems(applied.items, MAX_KEPT);
        return { ...applied, seq, items, hasMore: c.hasMore || items !== applied.items };
      });
      // Whoever posts has stopped typing.
      const typing = next.typing[m.channel]?.[m.user] ? dropTyping(next.typing, m.channel, m.user) : next.typing;
      const withTyping = typing === next.typing ? next : { ...next, typing };
      return withTyping.current === m.channel ? readCurrent(withTyping) : withTyping;
    }
    case "updated":
      return withChannel(state, action.channel, (c) => {
        const seq = action.seq === undefined ? c.seq : observe(c.seq, action.seq);
        const applied = applyMessages(c, [action.message], action.seq ?? action.message.rev, false);
        return seq === c.seq ? applied : { ...applied, seq };
      });
    case "changes":
      return withChannel(state, action.channel, (c) => {
        const applied = applyMessages(c, action.messages, Math.max(c.seq.last, action.lastSeq ?? 0), false);
        const seq = action.lastSeq === undefined ? applied.seq : caughtUp(applied.seq, action.lastSeq);
        return seq === applied.seq ? applied : { ...applied, seq };
      });
    case "thread_loaded":
      return withChannel(state, action.channel, (c) => {
        const id = action.root.id;
        if (!id || typeof action.root.seq !== "number") return c;
        const held = c.threads[id];
        let replies = held?.replies ?? [];
        for (const r of action.replies) replies = upsertSorted(replies, r, c.seq.last);
        const root = held?.root ?? toItem(action.root as Message & { seq: number }, c.seq.last);
        return { ...c, threads: { ...c.threads, [id]: { root, replies, loaded: true } } };
      });
    case "pins_loaded":
      return withChannel(state, action.channel, (c) => {
        let pins: TimelineItem[] = [];
        for (const m of action.messages) if (m.pinned !== false && !m.deleted) pins = upsertSorted(pins, m, c.seq.last);
        return { ...c, pins };
      });
    case "local":
      return withChannel(state, action.channel, (c) => ({ ...c, items: appendLocal(c.items, action.message, { local: true }) }));
    case "history": {
      const next = withChannel(state, action.channel, (c) => {
        const applied = applyMessages(c, action.messages, c.seq.last, true);
        const first = firstSeqOf(applied.items);
        const hasMore = action.hasMore ?? (first !== undefined ? first > 1 : false);
        return { ...applied, hasMore: first !== undefined && first > 1 ? hasMore : false };
      });
      return next.current === action.channel ? readCurrent(next) : next;
    }
    case "presence":
      return withChannel(state, action.channel, (c) => {
        const has = c.members.includes(action.user);
        if (action.online === has) return c;
        const members = action.online
          ? [...c.members, action.user].sort((a, b) => a.localeCompare(b))
          : c.members.filter((u) => u !== action.user);
        return { ...c, members };
      });
    case "typing": {
      if (action.user.toLowerCase() === state.me.toLowerCase()) return state;
      const ch = { ...(state.typing[action.channel] ?? {}), [action.user]: action.until };
      return { ...state, typing: { ...state.typing, [action.channel]: ch } };
    }
    case "typing_expire": {
      let changed = false;
      const typing: ChatState["typing"] = {};
      for (const [ch, users] of Object.entries(state.typing)) {
        const kept: Record<string, number> = {};
        for (const [u, until] of Object.entries(users)) {
          if (until > action.now) kept[u] = until;
          else changed = true;
        }
        if (Object.keys(kept).length) typing[ch] = kept;
      }
      return changed ? { ...state, typing } : state;
    }
    case "read_state": {
      if (!state.read[action.channel] && !state.channels.some((c) => c.name === action.channel)) return state;
      const { channel, seq } = action;
      return withRead(state, channel, (r) => {
        const moved = moveMark(r, seq, state.byChannel[channel], state.me);
        return moved.stored === null || seq > moved.stored ? { ...moved, stored: seq } : moved;
      });
    }
    case "visibility": {
      if (action.visible === state.visible) return state;
      if (!action.visible) return { ...state, visible: false };
      // Back to the page: what came while away is marked by the line, unless an older one is still shown.
      const cur = state.current;
      const newAfter = state.newAfter ?? (cur ? newAfterIn(state, cur) : null);
      const inbox = state.inbox.open && state.inbox.unseen ? { ...state.inbox, unseen: 0 } : state.inbox;
      return readCurrent({ ...state, visible: true, newAfter, inbox });
    }
    case "notification": {
      const n = action.notification;
      if (state.inbox.items.some((i) => i.id === n.id)) return state;
      // Seen as it comes: with the inbox open, or about the channel being read.
      const seen = state.visible && (state.inbox.open || (!!n.channel && n.channel === state.current));
      const inbox = { ...state.inbox, items: [n, ...state.inbox.items], unseen: seen ? 0 : state.inbox.unseen + 1 };
      const next = { ...state, inbox };
      const ch = n.channel;
      return ch && state.read[ch] ? withRead(next, ch, (r) => noteNotification(r, n, state.me)) : next;
    }
    case "inbox_loaded": {
      // Ids order the inbox (ms-ordered): live ones and pages merge by id, newest first.
      const byId = new Map(state.inbox.items.map((i) => [i.id, i]));
      for (const n of action.notifications) byId.set(n.id, n);
      const items = [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      // The first page again (after a reconnect) leaves the older pages held where they were.
      const nextBefore = action.more || !state.inbox.loaded ? action.nextBefore : state.inbox.nextBefore;
      return { ...state, inbox: { ...state.inbox, items, nextBefore, loaded: true } };
    }
    case "inbox_open": {
      if (action.open === state.inbox.open && (!action.open || !state.inbox.unseen)) return state;
      return { ...state, inbox: { ...state.inbox, open: action.open, unseen: action.open ? 0 : state.inbox.unseen } };
    }
  }
}

function dropTyping(typing: ChatState["typing"], channel: string, user: string): ChatState["typing"] {
  const users = { ...(typing[channel] ?? {}) };
  delete users[user];
  return { ...typing, [channel]: users };
}

const unreadCache = new WeakMap<ReadState, { timeline: ChannelState | undefined; me: string; value: Unread }>();

/** Unread messages and mentions of `channel` for the sidebar: none in the channel being read. */
export function unreadFor(state: ChatState, channel: string): Unread {
  if (channel === state.current && state.visible) return NOTHING_UNREAD;
  const r = state.read[channel];
  if (!r) return NOTHING_UNREAD;
  // Asked for every channel at every render: worked out again only when its state changed.
  const timeline = state.byChannel[channel];
  const hit = unreadCache.get(r);
  if (hit && hit.timeline === timeline && hit.me === state.me) return hit.value;
  const value = unreadOf(r, timeline, state.me);
  unreadCache.set(r, { timeline, me: state.me, value });
  return value;
}

/** The read mark of every channel, for choosing which to join first. */
export function readMarksOf(state: ChatState): Record<string, number> {
  const marks: Record<string, number> = {};
  for (const [name, r] of Object.entries(state.read)) marks[name] = r.seq;
  return marks;
}

/** Users typing in a channel right now, sorted. */
export function typingIn(state: ChatState, channel: string, now: number): string[] {
  return Object.entries(state.typing[channel] ?? {})
    .filter(([, until]) => until > now)
    .map(([u]) => u)
    .sort((a, b) => a.localeCompare(b));
}

export function typingText(users: readonly string[]): string {
  if (users.length === 0) return "";
  if (users.length === 1) return `${users[0]} is typing…`;
  if (users.length === 2) return `${users[0]} and ${users[1]} are typing…`;
  return `${users[0]}, ${users[1]} and ${users.length - 2} more are typing…`;
}
