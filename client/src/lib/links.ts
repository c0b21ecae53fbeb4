/**
 * Web links in message text: `https://…` and `http://…` become anchors, nothing else does
 * (no `javascript:`, `data:` or bare domains). Like cashtags, the text is split into segments
 * that the view renders as text or as an anchor, never as HTML.
 */

export type LinkSegment = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

const URL_LIKE = /\bhttps?:\/\/[^\s<>"'`]+/giu;
/** Punctuation that ends a sentence rather than a link: "see https://x.com/a." */
const TRAILING = /[.,;:!?'"\]}>]+$/u;

/** The link as an http(s) URL the browser will open as written, or null. */
export function safeHref(text: string): string | null {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** Drop trailing punctuation, and a closing parenthesis the link did not open. */
function trimEnd(candidate: string): string {
  let out = candidate.replace(TRAILING, "");
  while (out.endsWith(")") && (out.match(/\(/g)?.length ?? 0) < (out.match(/\)/g)?.length ?? 0)) {
    out = out.slice(0, -1).replace(TRAILING, "");
  }
  return out;
}

/** Split text into text and link segments; joining every segment's `text` gives the text back. */
export function splitLinks(text: string): LinkSegment[] {
  const segments: LinkSegment[] = [];
  let last = 0;
  for (const m of text.matchAll(URL_LIKE)) {
    const raw = trimEnd(m[0]);
    const href = safeHref(raw);
    if (!href) continue;
    if (m.index > last) segments.push({ kind: "text", text: text.slice(last, m.index) });
    segments.push({ kind: "link", text: raw, href });
    last = m.index + raw.length;
  }
  if (last < text.length) segments.push({ kind: "text", text: text.slice(last) });
  return segments;
}
