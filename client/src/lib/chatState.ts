/** The chat's state and the pure reducer that every socket event and REST answer goes through. */
import { applyEvent, applyMessages, emptyChannel, upsertSorted, type ChannelState } from "./channelState";
import { emptyInbox, seenOnReturn, withNotification, withOpen, withPage, type InboxState } from "./inbox";
import { usableChannelName } from "./joinPlan";
import { appendLocal, capItems, firstSeqOf, toItem, type TimelineItem } from "./messages";
import { newAfterIn, readCurrent, withRead, withServerMark } from "./readMarks";
import { caughtUp, observe } from "./seqTrack";
import type { Channel, ChannelEvent, JoinAck, Message, MyChannel, ChatNotification, SiteRole } from "./types";
import { fromServer, noteNotification, unreadFromStart, type ReadState } from "./unread";

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
    inbox: emptyInbox(),
    typing: {},
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
    case "read_state":
      return withServerMark(state, action.channel, action.seq);
    case "visibility": {
      if (action.visible === state.visible) return state;
      if (!action.visible) return { ...state, visible: false };
      // Back to the page: what came while away is marked by the line, unless an older one is still shown.
      const cur = state.current;
      const newAfter = state.newAfter ?? (cur ? newAfterIn(state, cur) : null);
      return readCurrent({ ...state, visible: true, newAfter, inbox: seenOnReturn(state.inbox) });
    }
    case "notification": {
      const n = action.notification;
      // Seen as it comes: with the inbox open, or about the channel being read.
      const seen = state.visible && (state.inbox.open || (!!n.channel && n.channel === state.current));
      const inbox = withNotification(state.inbox, n, seen);
      if (inbox === state.inbox) return state;
      const next = { ...state, inbox };
      const ch = n.channel;
      return ch && state.read[ch] ? withRead(next, ch, (r) => noteNotification(r, n, state.me)) : next;
    }
    case "inbox_loaded":
      return { ...state, inbox: withPage(state.inbox, action.notifications, action.nextBefore, action.more) };
    case "inbox_open": {
      const inbox = withOpen(state.inbox, action.open);
      return inbox === state.inbox ? state : { ...state, inbox };
    }
  }
}

function dropTyping(typing: ChatState["typing"], channel: string, user: string): ChatState["typing"] {
  const users = { ...(typing[channel] ?? {}) };
  delete users[user];
  return { ...typing, [channel]: users };
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
