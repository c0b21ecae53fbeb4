/**
 * Mentions: `@bob`, `@here`, `@channel` in message text, found as the server finds them
 * (core/textscan.py's MENTION), so a pill is drawn exactly where the server saw a mention.
 *
 * Only names the server put in the message's `mentions` become pills (an `@name` of nobody who may
 * read the channel, or an `@channel` by someone not allowed it, stays text). Joining every segment's
 * `raw` or `text` gives the original text back exactly.
 */
import { sameUser } from "./ids";
import type { Message } from "./types";

export type MentionSegment =
  | { kind: "text"; text: string }
  | {
      kind: "mention";
      /** As written: "@Bob". */
      raw: string;
      /** The entry of `mentions` it stands for: "bob", "@here" or "@channel". */
      target: string;
    };

export const HERE = "@here";
export const CHANNEL = "@channel";
/** Distinct names one message mentions at most (core/textscan.py MAX_MENTIONS); the rest are text. */
export const MAX_MENTIONS = 20;

/*
 * core/textscan.py's MENTION with Python's Unicode `\w` spelled out (letters, digits, `_`): `@` not
 * after a word character, `@` or `.` (an e-mail address mentions nobody), a name of 3 to 33
 * characters that ends in a letter or digit (a trailing `.`, `-`, `_` is punctuation), not running
 * on into a word character or `@`.
 */
const MENTION = /(?<![\p{L}\p{N}_@.])@([A-Za-z0-9_.-]{2,32}[A-Za-z0-9])(?![\p{L}\p{N}_@])/gu;

/** The `mentions` entry a written name stands for: `here` and `channel` are @here and @channel. */
function targetOf(name: string): string {
  const lower = name.toLowerCase();
  return lower === "here" ? HERE : lower === "channel" ? CHANNEL : lower;
}

/** Split text into text and mention segments, a mention only where `mentions` names it. Pure; never throws. */
export function splitMentions(text: string, mentions: readonly string[] | null | undefined): MentionSegment[] {
  if (!mentions?.length || !text.includes("@")) return text ? [{ kind: "text", text }] : [];
  const known = new Set(mentions.map((m) => m.toLowerCase()));
  const segments: MentionSegment[] = [];
  const seen = new Set<string>();
  let last = 0;
  for (const m of text.matchAll(MENTION)) {
    const target = targetOf(m[1]!);
    if (!seen.has(target)) {
      if (seen.size >= MAX_MENTIONS) continue;
      seen.add(target);
    }
    if (!known.has(target)) continue;
    if (m.index > last) segments.push({ kind: "text", text: text.slice(last, m.index) });
    segments.push({ kind: "mention", raw: m[0], target });
    last = m.index + m[0].length;
  }
  if (last < text.length) segments.push({ kind: "text", text: text.slice(last) });
  return segments;
}

/** Whether a mention of `target` is one of `me`: my name, @here or @channel. */
export function targetsMe(target: string, me: string): boolean {
  return target === HERE || target === CHANNEL || sameUser(target, me);
}

/** Whether someone else's message mentions `me` (by name, @here or @channel); my own never does. */
export function mentionsMe(message: Pick<Message, "user" | "mentions" | "deleted" | "redacted">, me: string): boolean {
  if (!message.mentions?.length || message.deleted || message.redacted || sameUser(message.user, me)) return false;
  return message.mentions.some((t) => targetsMe(t, me));
}
