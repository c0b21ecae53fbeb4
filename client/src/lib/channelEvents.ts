/**
 * Channel events (members, roles, mutes, bans, settings) as the client keeps them: a system line in
 * the channel's timeline, at the event's seq between the messages, and what the event changes for
 * the signed-in user (their role, their mute).
 */
import { formatAsOf, formatDuration } from "./format";
import { sameUser } from "./ids";
import type { TimelineItem } from "./messages";
import type { ChannelEvent, ChannelRole } from "./types";

/** The event as a timeline entry: keyed by its seq, never a message (no id, no actions). */
export function eventItem(ev: ChannelEvent): TimelineItem & { seq: number } {
  return { channel: ev.channel, seq: ev.seq, user: ev.by, text: "", ts: ev.ts, key: `event-${ev.seq}`, anchor: ev.seq, event: ev };
}

const article = (role: ChannelRole) => (role === "owner" ? "an owner" : role === "moderator" ? "a moderator" : "a member");

function settingsText(by: string, changes: ChannelEvent["changes"]): string {
  const parts: string[] = [];
  if (changes?.topic !== undefined) parts.push(changes.topic ? `set the topic to “${changes.topic}”` : "cleared the topic");
  if (changes?.slow_mode_s !== undefined) {
    parts.push(changes.slow_mode_s > 0 ? `set slow mode to ${formatDuration(changes.slow_mode_s)}` : "turned slow mode off");
  }
  return `${by} ${parts.length ? parts.join(" and ") : "changed the channel's settings"}`;
}

/** The system line: "bob muted carol until 14:05", "alice set slow mode to 30 s". */
export function eventText(ev: ChannelEvent, now: Date = new Date()): string {
  const by = ev.by;
  const target = ev.target ?? "someone";
  const self = !!ev.target && sameUser(ev.by, ev.target);
  const reason = ev.reason ? ` (${ev.reason})` : "";
  switch (ev.kind) {
    case "member_added":
      return self ? `${by} joined` : `${by} added ${target}${ev.role && ev.role !== "member" ? ` as ${ev.role}` : ""}`;
    case "member_removed":
      return self ? `${by} left` : `${by} removed ${target}${reason}`;
    case "role_changed":
      return `${by} made ${target} ${article(ev.role ?? "member")}`;
    case "muted":
      return `${by} muted ${target}${ev.until ? ` until ${formatAsOf(ev.until, now)}` : ""}${reason}`;
    case "unmuted":
      return `${by} unmuted ${target}`;
    case "banned":
      return `${by} banned ${target}${reason}`;
    case "unbanned":
      return `${by} unbanned ${target}`;
    case "settings_changed":
      return settingsText(by, ev.changes);
    default:
      return `${by} changed the channel`;
  }
}

/** Whether the event changes who is in the channel or what they may do (an open members list reloads). */
export const changesRoster = (ev: ChannelEvent): boolean => ev.kind !== "settings_changed";

/** What the event means for `me`: a new channel role, a new mute end (null: unmuted), or nothing. */
export function effectOnMe(ev: ChannelEvent, me: string): { role?: ChannelRole | null; mutedUntil?: string | null } {
  if (!ev.target || !sameUser(ev.target, me)) return {};
  switch (ev.kind) {
    case "role_changed":
      return { role: ev.role ?? "member" };
    case "member_added":
      return { role: ev.role ?? "member" };
    case "member_removed":
    case "banned":
      return { role: null };
    case "muted":
      return { mutedUntil: ev.until ?? null };
    case "unmuted":
      return { mutedUntil: null };
    default:
      return {};
  }
}
