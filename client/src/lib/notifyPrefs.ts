/**
 * Notification preferences as the settings form edits them: keywords and cashtags typed as lists, read
 * back the way the server stores them (docs/protocol.md "Notifications"), so a mistake is said before
 * the save rather than as the server's refusal.
 */
import type { NotifyLevel, NotifyPrefs } from "./types";

export const MAX_KEYWORDS = 50;
export const MAX_CASHTAGS = 50;
const KEYWORD_MIN = 2;
const KEYWORD_MAX = 50;
/** core/textscan.py's CASHTAG code, whole (the `$` optional). */
const CODE = /^[A-Za-z][A-Za-z0-9]{0,11}(?:[.-][A-Za-z0-9]{1,6}){0,2}(?:=[A-Za-z])?$/;

export type Parsed = { ok: true; values: string[] } | { ok: false; error: string };

/** Keywords or phrases, one a line or comma-separated: lower-cased, single-spaced, each once. */
export function parseKeywords(text: string): Parsed {
  const values: string[] = [];
  for (const raw of text.split(/[\n,]/)) {
    const phrase = raw.trim().split(/\s+/).join(" ").toLowerCase();
    if (!phrase) continue;
    if (phrase.length < KEYWORD_MIN) return { ok: false, error: `“${phrase}” is too short: a keyword has ${KEYWORD_MIN} characters at least.` };
    if (phrase.length > KEYWORD_MAX) return { ok: false, error: `“${phrase.slice(0, 20)}…” is too long: a keyword has ${KEYWORD_MAX} characters at most.` };
    if (!/[\p{L}\p{N}]/u.test(phrase)) return { ok: false, error: `“${phrase}” has no word in it.` };
    if (!values.includes(phrase)) values.push(phrase);
  }
  if (values.length > MAX_KEYWORDS) return { ok: false, error: `At most ${MAX_KEYWORDS} keywords (${values.length} given).` };
  return { ok: true, values };
}

/** Cashtags separated by commas or spaces, `$` optional: upper-cased codes, each once. */
export function parseCashtags(text: string): Parsed {
  const values: string[] = [];
  for (const raw of text.split(/[\s,]+/)) {
    const code = raw.replace(/^\$/, "");
    if (!code) continue;
    if (!CODE.test(code)) return { ok: false, error: `“${raw}” is not a cashtag (like $AAPL or $VOD.L).` };
    const upper = code.toUpperCase();
    if (!values.includes(upper)) values.push(upper);
  }
  if (values.length > MAX_CASHTAGS) return { ok: false, error: `At most ${MAX_CASHTAGS} cashtags (${values.length} given).` };
  return { ok: true, values };
}

/** A channel's level as the form offers it: "" for none set (mentions, keywords and cashtags; every message of a DM). */
export type LevelChoice = NotifyLevel | "";

/** The levels to save: those set in the form, and those of channels the form does not show (kept as they were). */
export function levelsToSave(stored: Record<string, NotifyLevel>, shown: Record<string, LevelChoice>): Record<string, NotifyLevel> {
  const out: Record<string, NotifyLevel> = {};
  for (const [name, level] of Object.entries(stored)) if (!(name in shown)) out[name] = level;
  for (const [name, level] of Object.entries(shown)) if (level) out[name] = level;
  return out;
}

/** The whole preferences from the form's fields, or what is wrong with which field. */
export function prefsFromForm(
  keywords: string,
  cashtags: string,
  stored: Record<string, NotifyLevel>,
  shown: Record<string, LevelChoice>,
): { prefs: NotifyPrefs } | { keywordsError?: string; cashtagsError?: string } {
  const k = parseKeywords(keywords);
  const c = parseCashtags(cashtags);
  if (!k.ok || !c.ok) return { keywordsError: k.ok ? undefined : k.error, cashtagsError: c.ok ? undefined : c.error };
  return { prefs: { keywords: k.values, cashtags: c.values, channels: levelsToSave(stored, shown) } };
}
