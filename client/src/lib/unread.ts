/** Unread counts: messages by others newer than what the user has seen in a channel. */
import type { Message } from "./types";

export type ReadMarks = Record<string, number>;

/** Count messages after `readSeq` not written by `me`; ephemeral ones and channel events never count. */
export function countUnread(
  messages: readonly (Message & { event?: unknown })[],
  readSeq: number | undefined,
  me: string,
): number {
  const after = readSeq ?? 0;
  let n = 0;
  for (const m of messages) {
    if (m.seq === undefined || m.ephemeral || m.event) continue;
    if (m.seq > after && m.user.toLowerCase() !== me.toLowerCase()) n += 1;
  }
  return n;
}

/** Mark a channel read up to `seq`; never moves a mark backwards. */
export function markRead(marks: ReadMarks, channel: string, seq: number): ReadMarks {
  if ((marks[channel] ?? 0) >= seq) return marks;
  return { ...marks, [channel]: seq };
}

/** Badge text: nothing for zero, "99+" past 99. */
export function unreadBadge(count: number): string {
  if (count <= 0) return "";
  return count > 99 ? "99+" : String(count);
}

const storageKey = (user: string) => `investor-chat.read.${user.toLowerCase()}`;

export function loadReadMarks(storage: Pick<Storage, "getItem"> | undefined, user: string): ReadMarks {
  try {
    const raw = storage?.getItem(storageKey(user));
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    if (parsed && typeof parsed === "object") {
      const out: ReadMarks = {};
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
        if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
      }
      return out;
    }
  } catch {
    // A corrupt or unavailable store just means everything starts read.
  }
  return {};
}

export function saveReadMarks(
  storage: Pick<Storage, "setItem"> | undefined,
  user: string,
  marks: ReadMarks,
): void {
  try {
    storage?.setItem(storageKey(user), JSON.stringify(marks));
  } catch {
    // Private mode or a full quota: unread marks are a convenience, not data.
  }
}
