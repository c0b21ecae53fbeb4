/** The chat's state and the pure reducer that every socket event and REST answer goes through. */
import { appendLocal, capItems, firstSeqOf, lastSeqOf, mergeMessages, type TimelineItem } from "./messages";
import { usableChannelName } from "./joinPlan";
import type { Channel, JoinAck, Message } from "./types";
import { countUnread, markRead, type ReadMarks } from "./unread";

export interface ChannelState {
  items: TimelineItem[];
  /** Older history exists before the first loaded message. */
  hasMore: boolean;
  joined: boolean;
  members: string[];
}

export interface ChatState {
  me: string;
  channels: Channel[];
  byChannel: Record<string, ChannelState>;
  current: string | null;
  readMarks: ReadMarks;
  /** channel -> user -> epoch ms until which "is typing" shows. */
  typing: Record<string, Record<string, number>>;
}

export type ChatAction =
  | { type: "channels_loaded"; channels: Channel[] }
  | { type: "channel_created"; channel: Channel }
  | { type: "channel_deleted"; name: string }
  | { type: "select"; channel: string }
  | { type: "joined"; ack: JoinAck }
  | { type: "disconnected" }
  | { type: "message"; message: Message }
  | { type: "local"; channel: string; message: Message }
  | { type: "history"; channel: string; messages: Message[]; hasMore?: boolean }
  | { type: "presence"; channel: string; user: string; online: boolean }
  | { type: "typing"; channel: string; user: string; until: number }
  | { type: "typing_expire"; now: number }
  | { type: "mark_read"; channel: string };

/**
 * Live messages kept per channel: past this the oldest are dropped (and `hasMore` set, so
 * scrolling up loads them again), keeping memory and work flat in a channel that never sleeps.
 */
export const MAX_KEPT = 3000;

export const emptyChannel = (): ChannelState => ({ items: [], hasMore: false, joined: false, members: [] });

export function initialState(me: string, readMarks: ReadMarks = {}): ChatState {
  return { me, channels: [], byChannel: {}, current: null, readMarks, typing: {} };
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

/** Keep the open channel read up to its newest message. */
function readCurrent(state: ChatState): ChatState {
  const cur = state.current;
  if (!cur) return state;
  const last = lastSeqOf(state.byChannel[cur]?.items ?? []);
  const marks = markRead(state.readMarks, cur, last);
  return marks === state.readMarks ? state : { ...state, readMarks: marks };
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "channels_loaded": {
      const known = new Map(state.channels.map((c) => [c.name, c]));
      for (const c of action.channels) if (usableChannelName(c.name)) known.set(c.name, c);
      return { ...state, channels: sortChannels([...known.values()]) };
    }
    case "channel_created": {
      if (!usableChannelName(action.channel.name)) return state;
      if (state.channels.some((c) => c.name === action.channel.name)) return state;
      // A brand-new channel: everything in it will be unread.
      const readMarks = action.channel.name in state.readMarks ? state.readMarks : { ...state.readMarks, [action.channel.name]: 0 };
      return { ...state, readMarks, channels: sortChannels([...state.channels, action.channel]) };
    }
    case "channel_deleted": {
      if (!state.channels.some((c) => c.name === action.name)) return state;
      const channels = state.channels.filter((c) => c.name !== action.name);
      const byChannel = { ...state.byChannel };
      delete byChannel[action.name];
      const fallback = channels.find((c) => c.name === "general") ?? channels[0];
      const current = state.current === action.name ? (fallback?.name ?? null) : state.current;
      return readCurrent({ ...state, channels, byChannel, current });
    }
    case "select":
      return readCurrent({ ...state, current: action.channel });
    case "joined": {
      const { ack } = action;
      let next = withChannel(state, ack.channel, (c) => {
        const items = mergeMessages(c.items, ack.messages);
        const first = firstSeqOf(items);
        return {
          items,
          hasMore: first !== undefined ? first > 1 : false,
          joined: true,
          members: [...new Set(ack.members)].sort((a, b) => a.localeCompare(b)),
        };
      });
      if (!(ack.channel in next.readMarks)) {
        // First sight of this channel on this device: start with it read.
        next = { ...next, readMarks: { ...next.readMarks, [ack.channel]: ack.last_seq } };
      }
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
        const merged = mergeMessages(c.items, [m]);
        if (merged === c.items) return c;
        const items = capItems(merged, MAX_KEPT);
        return { ...c, items, hasMore: c.hasMore || items !== merged };
      });
      // Whoever posts has stopped typing.
      const typing = next.typing[m.channel]?.[m.user] ? dropTyping(next.typing, m.channel, m.user) : next.typing;
      const withTyping = typing === next.typing ? next : { ...next, typing };
      return withTyping.current === m.channel ? readCurrent(withTyping) : withTyping;
    }
    case "local":
      return withChannel(state, action.channel, (c) => ({ ...c, items: appendLocal(c.items, action.message, { local: true }) }));
    case "history": {
      const next = withChannel(state, action.channel, (c) => {
        const items = mergeMessages(c.items, action.messages);
        const first = firstSeqOf(items);
        const hasMore = action.hasMore ?? (first !== undefined ? first > 1 : false);
        return { ...c, items, hasMore: first !== undefined && first > 1 ? hasMore : false };
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
    case "mark_read": {
      const last = lastSeqOf(state.byChannel[action.channel]?.items ?? []);
      const marks = markRead(state.readMarks, action.channel, last);
      return marks === state.readMarks ? state : { ...state, readMarks: marks };
    }
  }
}

function dropTyping(typing: ChatState["typing"], channel: string, user: string): ChatState["typing"] {
  const users = { ...(typing[channel] ?? {}) };
  delete users[user];
  return { ...typing, [channel]: users };
}

/** Unread count for the sidebar; `more` when older unread messages were not loaded. */
export function unreadFor(state: ChatState, channel: string): { count: number; more: boolean } {
  if (channel === state.current) return { count: 0, more: false };
  const items = state.byChannel[channel]?.items ?? [];
  const mark = state.readMarks[channel];
  const count = countUnread(items, mark, state.me);
  const first = firstSeqOf(items);
  const more = count > 0 && first !== undefined && mark !== undefined && first > mark + 1;
  return { count, more };
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
