/**
 * Cashtags: `$AAPL`, `$VOD.L`, `$BTC-USD`, `$brk.b` inside a message become price chips.
 *
 * The text is split into plain-text and cashtag segments; the view renders text segments as
 * text (never as HTML) and cashtag segments as chips. Joining every segment's `raw` gives the
 * original text back exactly.
 */

export type Segment =
  | { kind: "text"; text: string }
  | {
      kind: "cashtag";
      /** As written, with the `$`: "$brk.b". */
      raw: string;
      /** The code to ask the server for, upper-cased: "BRK.B". */
      symbol: string;
    };

/** At most this many distinct symbols per message become chips; later new ones stay text. */
export const MAX_CASHTAGS = 10;
/** The server's limit on one code. */
const MAX_SYMBOL_LENGTH = 20;

/*
 * `$` must not follow a letter, digit, `_` or another `$` (so `US$`, `$$AAPL`, `a$b` stay text).
 * The code starts with a letter (so `$5`, `$5.00` and `$1m` stay text), then letters or digits,
 * then optional `.SUFFIX` / `-SUFFIX` parts (exchange, share class, crypto quote currency) and an
 * optional Yahoo `=X` / `=F`. It must not run on into a letter, digit, `_`, `$`, or a `.`/`-`/`=`
 * followed by one, so `$AAPL.` and `$AAPL,` are tags but `$AAPLE_x` and `$AAPL.US.X` are not.
 */
const CASHTAG =
  /(?<![\p{L}\p{N}\p{M}_$])\$([A-Za-z][A-Za-z0-9]{0,11}(?:[.-][A-Za-z0-9]{1,6}){0,2}(?:=[A-Za-z])?)(?![\p{L}\p{N}\p{M}_$]|[.\-=][\p{L}\p{N}])/gu;

/** Split message text into text and cashtag segments. Pure; never throws. */
export function splitCashtags(text: string, max: number = MAX_CASHTAGS): Segment[] {
  const segments: Segment[] = [];
  const seen = new Set<string>();
  let last = 0;
  let pending = "";
  for (const m of text.matchAll(CASHTAG)) {
    const raw = m[0];
    const symbol = m[1]!.toUpperCase();
    const start = m.index;
    if (symbol.length > MAX_SYMBOL_LENGTH) continue;
    if (!seen.has(symbol)) {
      if (seen.size >= max) continue;
      seen.add(symbol);
    }
    pending += text.slice(last, start);
    if (pending) segments.push({ kind: "text", text: pending });
    pending = "";
    segments.push({ kind: "cashtag", raw, symbol });
    last = start + raw.length;
  }
  pending += text.slice(last);
  if (pending) segments.push({ kind: "text", text: pending });
  return segments;
}

/** The distinct symbols of a message's cashtags, in order of first appearance. */
export function cashtagSymbols(text: string, max: number = MAX_CASHTAGS): string[] {
  const out: string[] = [];
  for (const s of splitCashtags(text, max)) if (s.kind === "cashtag" && !out.includes(s.symbol)) out.push(s.symbol);
  return out;
}
