/**
 * The chat state's read side: each channel's mark moved as the open channel is read (only while in
 * sight) or as the server says, where the "new messages" line goes, and the unread counts per channel.
 */
import type { ChannelState } from "./channelState";
import type { ChatState } from "./chatState";
import { lastSeqOf } from "./messages";
import { moveMark, NOTHING_UNREAD, unreadFromStart, unreadOf, type ReadState, type Unread } from "./unread";

/** `fn` applied to the read state of `name` (a channel with none reads from its start). */
export function withRead(state: ChatState, name: string, fn: (r: ReadState) => ReadState): ChatState {
  const before = state.read[name] ?? unreadFromStart();
  const after = fn(before);
  if (after === before) return state;
  return { ...state, read: { ...state.read, [name]: after } };
}

/** Keep the open channel read up to the newest seq seen in it, while the user can see it. */
export function readCurrent(state: ChatState): ChatState {
  const cur = state.current;
  if (!cur || !state.visible) return state;
  const c = state.byChannel[cur];
  if (!c) return state;
  const seen = Math.max(c.seq.last, lastSeqOf(c.items));
  return withRead(state, cur, (r) => moveMark(r, seen, c, state.me));
}

/** Where the "new messages" line of `channel` goes: after the mark, when anything after it is unread. */
export function newAfterIn(state: ChatState, channel: string): number | null {
  const r = state.read[channel];
  return r && unreadOf(r, state.byChannel[channel], state.me).count > 0 ? r.seq : null;
}

/** The server holds the mark of `channel` at `seq` (`read_state` from another device, or our `read`'s ack). */
export function withServerMark(state: ChatState, channel: string, seq: number): ChatState {
  if (!state.read[channel] && !state.channels.some((c) => c.name === channel)) return state;
  return withRead(state, channel, (r) => {
    const moved = moveMark(r, seq, state.byChannel[channel], state.me);
    return moved.stored === null || seq > moved.stored ? { ...moved, stored: seq } : moved;
  });
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
