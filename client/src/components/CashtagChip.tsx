import { useCallback, useId, useMemo, useState, useSyncExternalStore } from "react";
import { api } from "../lib/api";
import { splitCashtags } from "../lib/cashtags";
import { direction, formatExchangeTime, formatPercent, formatPrice, marketStateLabel, percentSince } from "../lib/format";
import { QuoteStore, type QuoteEntry } from "../lib/quoteStore";
import type { PriceStamp } from "../lib/types";

/** One store for the whole page: every chip of every channel shares its cache and batches. */
export const quoteStore = new QuoteStore((symbols) => api.quotes(symbols));

const TONE = {
  up: { cls: "text-up", arrow: "▲", word: "up" },
  down: { cls: "text-down", arrow: "▼", word: "down" },
  flat: { cls: "text-ink-300", arrow: "■", word: "unchanged" },
} as const;

const ERROR_WORDS: Record<string, string> = {
  unknown_symbol: "unknown code",
  invalid_symbol: "not a valid code",
  invalid_parameter: "not a valid code",
  unavailable: "quote unavailable",
};

/** Message text with its cashtags as price chips. The text is only ever rendered as text. */
export function TextWithCashtags({ text, stamps }: { text: string; stamps?: readonly PriceStamp[] | null }) {
  const segments = useMemo(() => splitCashtags(text), [text]);
  return (
    <>
      {segments.map((s, i) =>
        s.kind === "text" ? (
          s.text
        ) : (
          <CashtagChip key={i} raw={s.raw} symbol={s.symbol} stamp={stamps?.find((st) => st.code === s.symbol)} />
        ),
      )}
    </>
  );
}

/** What a screen reader hears after the visible text, which alone would leave it unclear. */
function spokenExtra(entry: QuoteEntry | undefined, stamped: boolean): string {
  if (stamped && entry?.status !== "ok") return "";
  if (!entry || entry.status === "loading") return ": loading quote";
  if (entry.status === "error") return `: ${ERROR_WORDS[entry.code] ?? "no quote"}`;
  const state = marketStateLabel(entry.quote.market_state);
  return state ? `, ${state}` : "";
}

/**
 * A cashtag as a price chip. With a `stamp` (the price when its message was posted) it shows that
 * price and the change since, so an old message never passes today's price off as then's; the
 * live quote is in its tooltip. Without one it shows the live quote.
 */
export function CashtagChip({ raw, symbol, stamp }: { raw: string; symbol: string; stamp?: PriceStamp }) {
  const subscribe = useCallback((onChange: () => void) => quoteStore.subscribe(symbol, onChange), [symbol]);
  const getSnapshot = useCallback(() => quoteStore.get(symbol), [symbol]);
  const entry = useSyncExternalStore(subscribe, getSnapshot);
  const [pinned, setPinned] = useState(false);
  // The details are drawn only while someone looks (hover or focus): a busy channel has hundreds
  // of chips, and their hidden tooltips were a third of the page.
  const [looking, setLooking] = useState(false);
  const tipId = useId();

  const state = entry?.status ?? "loading";
  const quote = entry?.status === "ok" ? entry.quote : null;
  const dir = quote ? direction(quote.change_pct ?? quote.change) : "flat";
  const tone = TONE[dir];
  const stale = !!quote?.stale;
  const since = stamp && quote ? percentSince(stamp.price, quote.price) : null;
  const sinceTone = TONE[direction(since)];

  return (
    <span
      className="group/chip relative inline-block align-baseline"
      onMouseEnter={() => setLooking(true)}
      onMouseLeave={() => setLooking(false)}
      onFocus={() => setLooking(true)}
      onBlur={() => setLooking(false)}
    >
      <button
        type="button"
        className={`focus-ring inline-flex items-baseline gap-1 whitespace-nowrap rounded-md px-1.5 py-px font-mono text-[13px] leading-5 ring-1 transition-colors ${
          state === "ok" || stamp
            ? "bg-ink-800 ring-ink-600 hover:bg-ink-700"
            : state === "error"
              ? "bg-ink-850 text-ink-400 ring-ink-700"
              : "animate-pulse bg-ink-850 text-ink-300 ring-ink-700"
        }`}
        // Named by what it shows (plus a few words for a screen reader), so speech input can say
        // what it sees. Not a Tab stop: a busy history would be hundreds of them; the quote is
        // in the name, and a click or focus from script opens the details.
        tabIndex={-1}
        aria-describedby={tipId}
        aria-expanded={pinned}
        onClick={() => setPinned((p) => !p)}
        onBlur={() => setPinned(false)}
        onKeyDown={(e) => {
          if (e.key === "Escape") setPinned(false);
        }}
        data-testid="cashtag"
        data-symbol={symbol}
        data-state={state}
        data-stale={stale ? "true" : "false"}
      >
        <span className={`font-semibold ${state === "ok" || stamp ? "text-accent" : ""}`}>{raw}</span>
        {stamp ? (
          <>
            {" "}
            <span className="tabular-nums text-ink-100" data-testid="cashtag-price" data-stamped="true">
              {formatPrice(stamp.price, stamp.currency)}
            </span>
            <span className="sr-only"> when posted</span>
            {since !== null && " "}
            {since !== null && (
              <span className={`tabular-nums ${sinceTone.cls}`} data-testid="cashtag-since" data-direction={direction(since)}>
                <span aria-hidden="true">{sinceTone.arrow}</span>
                <span className="sr-only">{sinceTone.word} </span>
                {formatPercent(since)}
                <span className="sr-only"> since</span>
              </span>
            )}
          </>
        ) : quote && (
          <>
            {" "}
            <span className="tabular-nums text-ink-100" data-testid="cashtag-price">
              {formatPrice(quote.price, quote.currency)}
            </span>
            {quote.change_pct != null && " "}
            {quote.change_pct != null && (
              <span className={`tabular-nums ${tone.cls}`} data-testid="cashtag-change" data-direction={dir}>
                <span aria-hidden="true">{tone.arrow}</span>
                <span className="sr-only">{tone.word} </span>
                {formatPercent(quote.change_pct)}
              </span>
            )}
            {stale && (
              <span className="self-center rounded bg-gold/15 px-1 text-[10px] uppercase tracking-wide text-gold" data-testid="cashtag-stale">
                stale
              </span>
            )}
          </>
        )}
        <span className="sr-only">{spokenExtra(entry, !!stamp)}</span>
      </button>
      <span
        role="tooltip"
        id={tipId}
        className={`pointer-events-none absolute left-0 top-full z-30 mt-1 w-max max-w-xs flex-col gap-0.5 rounded-lg border border-ink-600 bg-ink-800 px-3 py-2 text-left font-sans text-xs leading-5 whitespace-normal text-ink-200 shadow-lg shadow-black/40 ${
          pinned ? "flex" : "hidden group-hover/chip:flex group-focus-within/chip:flex"
        }`}
        data-testid="cashtag-tooltip"
      >
        {(looking || pinned) && (
          <>
            {stamp && <StampLine stamp={stamp} />}
            <Tooltip symbol={symbol} entry={entry} stamped={!!stamp} />
          </>
        )}
      </span>
    </span>
  );
}

function StampLine({ stamp }: { stamp: PriceStamp }) {
  return (
    <span data-testid="cashtag-stamp">
      When posted: <span className="font-semibold text-ink-100">{formatPrice(stamp.price, stamp.currency)}</span>
      {" · as of "}
      <time dateTime={stamp.as_of}>{formatExchangeTime(stamp)}</time>
    </span>
  );
}

function Tooltip({ symbol, entry, stamped }: { symbol: string; entry: QuoteEntry | undefined; stamped: boolean }) {
  if (!entry || entry.status === "loading") return <span>Loading {symbol}…</span>;
  if (entry.status === "error") {
    return (
      <>
        <span className="font-mono font-semibold text-ink-100">{symbol}</span>
        <span>{entry.message}</span>
      </>
    );
  }
  const q = entry.quote;
  const state = marketStateLabel(q.market_state);
  return (
    <>
      {stamped && (
        <span data-testid="cashtag-now">
          Now: <span className="font-semibold text-ink-100">{formatPrice(q.price, q.currency)}</span>
          {q.change_pct != null && ` (${formatPercent(q.change_pct)} today)`}
        </span>
      )}
      <span className="text-ink-100">
        {q.name ? <span className="font-semibold">{q.name} </span> : null}
        <span className="font-mono text-ink-300">{q.symbol}</span>
      </span>
      <span>
        As of <time dateTime={q.as_of_local ?? q.as_of}>{formatExchangeTime(q)}</time>
      </span>
      {state && <span>{state}</span>}
      {q.stale && <span className="text-gold">Stale: older than one trading session</span>}
      <span className="uppercase tracking-wide text-ink-400">{q.source}</span>
    </>
  );
}
