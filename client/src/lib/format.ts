/** Display formatting: prices and changes from decimal strings, times, day separators. */

/** Digits after the decimal point in a decimal string ("93.420" -> 3). */
export function decimalPlaces(value: string): number {
  const m = /\.(\d+)/.exec(value.trim());
  return m ? m[1]!.length : 0;
}

/** Normalise a decimal string for Intl (which formats strings exactly, without float rounding). */
function cleanDecimal(value: string): string | null {
  const v = value.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) ? v : null;
}

type NumberInput = Parameters<Intl.NumberFormat["format"]>[0];

// Building an Intl formatter costs far more than using one, and every row formats times:
// formatters are made once per locale and options and kept.
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function numberFormat(locale: string | undefined, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale ?? ""}|${JSON.stringify(opts)}`;
  let f = numberFormats.get(key);
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat(locale, opts)));
  return f;
}

function dateFormat(locale: string | undefined, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale ?? ""}|${JSON.stringify(opts)}`;
  let f = dateFormats.get(key);
  if (!f) dateFormats.set(key, (f = new Intl.DateTimeFormat(locale, opts)));
  return f;
}

function formatDecimal(value: string, locale: string | undefined, opts: Intl.NumberFormatOptions) {
  const clean = cleanDecimal(value);
  if (clean === null) return value;
  // Intl.NumberFormat formats numeric strings as exact decimals; money never goes through float.
  return numberFormat(locale, opts).format(clean as unknown as NumberInput);
}

const ISO_CURRENCY = /^[A-Z]{3}$/;
/** Quote units that are not ISO currencies and read better as a suffix. */
const UNITS: Record<string, string> = { GBX: "GBX", GBp: "GBp", ZAc: "ZAc", ILA: "ILA", points: "pts", PTS: "pts" };

/** Price with currency, keeping the provider's precision (at least 2 places). */
export function formatPrice(price: string, currency: string | undefined | null, locale?: string): string {
  const places = Math.min(Math.max(2, decimalPlaces(price)), 8);
  const base: Intl.NumberFormatOptions = { minimumFractionDigits: places, maximumFractionDigits: places };
  const cur = (currency ?? "").trim();
  if (cur && !(cur in UNITS) && ISO_CURRENCY.test(cur)) {
    try {
      return formatDecimal(price, locale, { ...base, style: "currency", currency: cur });
    } catch {
      // Fall through to number + unit.
    }
  }
  const num = formatDecimal(price, locale, base);
  const unit = UNITS[cur] ?? cur;
  return unit ? `${num} ${unit}` : num;
}

export type Direction = "up" | "down" | "flat";

/** Whether a signed decimal string is above, below or at zero. */
export function direction(change: string | null | undefined): Direction {
  if (change == null) return "flat";
  const clean = cleanDecimal(change);
  if (clean === null) return "flat";
  if (/^-/.test(clean)) return /[1-9]/.test(clean) ? "down" : "flat";
  return /[1-9]/.test(clean) ? "up" : "flat";
}

/** "+1.23" / "−0.40" with an explicit sign. */
export function formatChange(change: string, locale?: string): string {
  const places = Math.min(Math.max(2, decimalPlaces(change)), 8);
  return formatDecimal(change, locale, {
    minimumFractionDigits: places,
    maximumFractionDigits: places,
    signDisplay: "exceptZero",
  });
}

/** "+0.45%" from a percent figure given as a decimal string ("0.45" means 0.45 %). */
export function formatPercent(pct: string, locale?: string): string {
  const n = formatDecimal(pct, locale, {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
    signDisplay: "exceptZero",
  });
  return `${n}%`;
}

export interface TimeOpts {
  locale?: string;
  timeZone?: string;
}

/** Clock time of a message in the user's locale, e.g. "09:00" or "9:00 AM". */
export function formatTime(ts: string | Date, opts: TimeOpts = {}): string {
  const d = typeof ts === "string" ? new Date(ts) : ts;
  if (Number.isNaN(d.getTime())) return "";
  return dateFormat(opts.locale, { timeStyle: "short", timeZone: opts.timeZone }).format(d);
}

/** Full date and time, for tooltips. */
export function formatDateTime(ts: string | Date, opts: TimeOpts = {}): string {
  const d = typeof ts === "string" ? new Date(ts) : ts;
  if (Number.isNaN(d.getTime())) return "";
  return dateFormat(opts.locale, {
    dateStyle: "full",
    timeStyle: "medium",
    timeZone: opts.timeZone,
  }).format(d);
}

/** Calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function dayKey(ts: string | Date, timeZone?: string): string {
  const d = typeof ts === "string" ? new Date(ts) : ts;
  if (Number.isNaN(d.getTime())) return "invalid";
  const parts = dateFormat("en-CA", {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    timeZone,
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

function shiftDay(key: string, days: number): string {
  const [y, m, d] = key.split("-").map(Number);
  const utc = new Date(Date.UTC(y!, m! - 1, d! + days));
  return utc.toISOString().slice(0, 10);
}

/** "Today", "Yesterday" or a localized date for a day separator. */
export function dayLabel(ts: string | Date, now: Date = new Date(), opts: TimeOpts = {}): string {
  const key = dayKey(ts, opts.timeZone);
  const today = dayKey(now, opts.timeZone);
  if (key === today) return "Today";
  if (key === shiftDay(today, -1)) return "Yesterday";
  const d = typeof ts === "string" ? new Date(ts) : ts;
  const sameYear = key.slice(0, 4) === today.slice(0, 4);
  return dateFormat(opts.locale, {
    weekday: "long",
    month: "long",
    day: "numeric",
    year: sameYear ? undefined : "numeric",
    timeZone: opts.timeZone,
  }).format(d);
}

/** Time of a quote: clock time when it is from today, otherwise date and time. */
export function formatAsOf(ts: string, now: Date = new Date(), opts: TimeOpts = {}): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  if (dayKey(d, opts.timeZone) === dayKey(now, opts.timeZone)) return formatTime(d, opts);
  return dateFormat(opts.locale, {
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZone: opts.timeZone,
  }).format(d);
}

export type Row<T> = { kind: "day"; key: string; label: string } | { kind: "item"; key: string; item: T };

/** Interleave day separators before the first item of each calendar day. */
export function withDaySeparators<T extends { ts: string; key: string }>(
  items: readonly T[],
  now: Date = new Date(),
  opts: TimeOpts = {},
): Row<T>[] {
  const rows: Row<T>[] = [];
  let current: string | null = null;
  for (const item of items) {
    const k = dayKey(item.ts, opts.timeZone);
    if (k !== current) {
      rows.push({ kind: "day", key: `day-${k}`, label: dayLabel(item.ts, now, opts) });
      current = k;
    }
    rows.push({ kind: "item", key: item.key, item });
  }
  return rows;
}

/** Human label for a provider's market state ("REGULAR" -> "Market open"). */
export function marketStateLabel(state: string | undefined | null): string {
  const s = (state ?? "").trim().toUpperCase();
  const known: Record<string, string> = {
    REGULAR: "Market open",
    OPEN: "Market open",
    CLOSED: "Market closed",
    CLOSE: "Market closed",
    PRE: "Pre-market",
    PREPRE: "Pre-market",
    POST: "After hours",
    POSTPOST: "After hours",
    "PRE-MARKET": "Pre-market",
    "AFTER-HOURS": "After hours",
    UNKNOWN: "",
  };
  if (s in known) return known[s]!;
  return s ? s.charAt(0) + s.slice(1).toLowerCase().replace(/_/g, " ") : "";
}

/** Characters left before the limit, shown once the text nears it. */
export function remainingChars(text: string, limit = 2000): number {
  // The server counts code points; so does the spread.
  return limit - [...text].length;
}

/**
 * A quote's as-of time on the exchange's own clock, with its zone: "Mar 2, 4:00 PM EST".
 * Falls back to the viewer's zone when the quote names none (or the zone is unknown here).
 */
export function formatExchangeTime(
  quote: { as_of: string; exchange_tz?: string | null },
  locale?: string,
): string {
  const d = new Date(quote.as_of);
  if (Number.isNaN(d.getTime())) return quote.as_of;
  const opts: Intl.DateTimeFormatOptions = {
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
  };
  if (quote.exchange_tz) {
    try {
      return dateFormat(locale, { ...opts, timeZone: quote.exchange_tz }).format(d);
    } catch {
      // An unknown zone: show the viewer's own.
    }
  }
  return dateFormat(locale, opts).format(d);
}

/** A decimal string as an integer count of 10^-scale units, or null when it is not a plain decimal. */
function scaled(value: string, scale: number): bigint | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!m || (!m[2] && !m[3])) return null;
  const frac = (m[3] ?? "").padEnd(scale, "0").slice(0, scale);
  const n = BigInt(`${m[2] || "0"}${frac}`);
  return m[1] === "-" ? -n : n;
}

/**
 * The change from `then` to `now` in percent, as a decimal string with two places ("8.11",
 * "-0.40"), worked out on exact decimals (no float rounding of prices); null when either is not
 * a number or `then` is zero.
 */
export function percentSince(then: string, now: string): string | null {
  const scale = Math.min(Math.max(decimalPlaces(then), decimalPlaces(now)), 12);
  const a = scaled(then, scale);
  const b = scaled(now, scale);
  if (a === null || b === null || a === 0n) return null;
  // Hundredths of a percent, rounded half away from zero.
  const num = (b - a) * 20000n;
  const q = num / a;
  const hundredths = (q + (q >= 0n ? 1n : -1n)) / 2n;
  const sign = hundredths < 0n ? "-" : "";
  const abs = hundredths < 0n ? -hundredths : hundredths;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}

/** A setting's length of time: "30 s", "5 min", "1 h", "1 h 30 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const parts = [h ? `${h} h` : "", m ? `${m} min` : "", rest ? `${rest} s` : ""];
  return parts.filter(Boolean).join(" ");
}

/** Time left on a countdown, whole seconds rounded up: "45 s", "9:05", "23 h 59 min". */
export function formatCountdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h} h ${String(m).padStart(2, "0")} min`;
}
