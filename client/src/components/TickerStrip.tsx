/** The ticker strip over the chat: the user's watchlist with prices and the day's change, a trend on hover or focus. */
import { useId, useRef, useState, useSyncExternalStore, type CSSProperties, type FormEvent } from "react";
import { createPortal } from "react-dom";
import { direction, formatExchangeTime, formatPercent, formatPrice } from "../lib/format";
import type { Quote } from "../lib/types";
import type { Watchlist, WatchError } from "../lib/watchlist";
import { Sparkline, TONE } from "./QuoteCard";

export function TickerStrip({ watchlist }: { watchlist: Watchlist }) {
  const state = useSyncExternalStore(watchlist.subscribe, watchlist.getSnapshot);
  const [error, setError] = useState<string | null>(null);

  async function run(step: () => Promise<void>): Promise<boolean> {
    setError(null);
    try {
      await step();
      return true;
    } catch (e) {
      setError(e instanceof Error ? e.message : "That did not work");
      return false;
    }
  }

  return (
    <section
      aria-label="Watchlist"
      className="flex items-center gap-2 border-b border-ink-700 bg-ink-900 px-3 py-1 text-sm sm:px-5"
      data-testid="ticker-strip"
    >
      {state.symbols.length > 0 ? (
        // Positioned, so the screen-reader-only words in it scroll with it instead of widening the page.
        <ul className="relative flex min-w-0 flex-1 items-center gap-1.5 overflow-x-auto py-0.5" data-testid="ticker-list">
          {state.symbols.map((s) => (
            <li key={s} className="shrink-0">
              <Ticker symbol={s} quote={state.quotes[s]} error={state.errors[s]} onRemove={() => void run(() => watchlist.remove(s))} />
            </li>
          ))}
        </ul>
      ) : (
        <p className="min-w-0 flex-1 truncate text-xs text-ink-400" data-testid="ticker-empty" title={state.failed ?? undefined}>
          {!state.loaded ? (state.failed ? "Watchlist unavailable" : "") : <>Watch a code: <code className="font-mono text-ink-300">/watch AAPL</code></>}
        </p>
      )}
      {error && (
        <p role="alert" className="max-w-[14rem] shrink truncate text-xs text-down" title={error} data-testid="ticker-error">
          {error}
        </p>
      )}
      <AddCode onAdd={(code) => run(() => watchlist.add(code))} />
    </section>
  );
}

function AddCode({ onAdd }: { onAdd: (code: string) => Promise<boolean> }) {
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!code.trim() || busy) return;
    setBusy(true);
    if (await onAdd(code)) setCode("");
    setBusy(false);
  }

  return (
    <form onSubmit={(e) => void submit(e)} className="flex shrink-0 items-center gap-1">
      <input
        value={code}
        onChange={(e) => setCode(e.target.value)}
        aria-label="Code to watch"
        placeholder="Add code"
        maxLength={24}
        autoComplete="off"
        spellCheck={false}
        className="w-20 rounded-md border border-ink-450 bg-ink-850 px-1.5 py-0.5 font-mono text-xs uppercase text-ink-100 placeholder:normal-case placeholder:text-ink-400 focus-ring sm:w-24"
      />
      <button
        type="submit"
        disabled={busy}
        aria-label="Add to watchlist"
        className="rounded-md border border-ink-600 px-1.5 py-0.5 text-xs text-ink-200 hover:bg-ink-700 disabled:opacity-60 focus-ring"
      >
        +
      </button>
    </form>
  );
}

/** Below the ticker, kept inside the window; drawn in the body, as the strip scrolls sideways and would cut it. */
function placeUnder(el: HTMLElement | null): CSSProperties {
  const at = el?.getBoundingClientRect();
  if (!at) return { position: "fixed", left: 8, top: 8 };
  return { position: "fixed", left: Math.max(8, Math.min(at.left, window.innerWidth - 220)), top: at.bottom + 4 };
}

interface TickerProps {
  symbol: string;
  quote?: Quote;
  error?: WatchError;
  onRemove: () => void;
}

function Ticker({ symbol, quote, error, onRemove }: TickerProps) {
  // Where the trend shows while someone looks (hover, focus) or pinned it (a press: touch screens have no hover).
  const [at, setAt] = useState<CSSProperties | null>(null);
  const [looking, setLooking] = useState(false);
  const [pinned, setPinned] = useState(false);
  const box = useRef<HTMLSpanElement>(null);
  const tipId = useId();
  const dir = quote ? direction(quote.change_pct ?? quote.change) : "flat";
  const tone = TONE[dir];
  const open = (looking || pinned) && !!quote && !!at;
  const look = (on: boolean) => {
    if (on) setAt(placeUnder(box.current));
    setLooking(on);
  };

  return (
    <span
      ref={box}
      className="inline-flex items-center rounded-md bg-ink-850 ring-1 ring-ink-700"
      onMouseEnter={() => look(true)}
      onMouseLeave={() => look(false)}
      data-testid="ticker"
      data-symbol={symbol}
      data-direction={quote ? dir : "none"}
    >
      <button
        type="button"
        className="inline-flex items-baseline gap-1.5 whitespace-nowrap rounded-l-md px-2 py-0.5 font-mono text-xs focus-ring"
        aria-expanded={pinned}
        aria-describedby={open ? tipId : undefined}
        title={error ? `${symbol}: ${error.message}` : undefined}
        onClick={() => {
          setAt(placeUnder(box.current));
          setPinned((p) => !p);
        }}
        onFocus={() => look(true)}
        onBlur={() => {
          look(false);
          setPinned(false);
        }}
        onKeyDown={(e) => {
          if (e.key === "Escape") setPinned(false);
        }}
      >
        <span className="font-semibold text-ink-100">{symbol}</span>{" "}
        {quote ? (
          <>
            <span className="tabular-nums text-ink-200" data-testid="ticker-price">
              {formatPrice(quote.price, quote.currency)}
            </span>{" "}
            <span className={`tabular-nums ${tone.text}`} data-testid="ticker-change" data-direction={dir}>
              <span aria-hidden="true">{tone.arrow}</span>
              <span className="sr-only">{tone.label}</span>{" "}
              {quote.change_pct != null ? formatPercent(quote.change_pct) : "—"}
            </span>
            {quote.stale && (
              <>
                {" "}
                <span className="rounded bg-gold/15 px-1 text-[10px] uppercase text-gold">stale</span>
              </>
            )}
          </>
        ) : (
          <span className="text-ink-400" data-testid="ticker-price">
            <span aria-hidden="true">—</span>
            <span className="sr-only">{error ? error.message : "loading"}</span>
          </span>
        )}
      </button>
      <button
        type="button"
        onClick={onRemove}
        aria-label={`Remove ${symbol} from watchlist`}
        className="rounded-r-md px-1.5 py-0.5 text-xs text-ink-400 hover:bg-ink-700 hover:text-ink-100 focus-ring"
      >
        ×
      </button>
      {open && createPortal(<TrendTip id={tipId} quote={quote} style={at} />, document.body)}
    </span>
  );
}

function TrendTip({ id, quote, style }: { id: string; quote: Quote; style: CSSProperties }) {
  const tone = TONE[direction(quote.change_pct ?? quote.change)];
  return (
    <span
      role="tooltip"
      id={id}
      style={style}
      className="pointer-events-none z-50 flex w-52 flex-col gap-1 rounded-lg border border-ink-600 bg-ink-800 px-3 py-2 text-xs text-ink-200 shadow-lg shadow-black/40"
      data-testid="ticker-tip"
    >
      <span className="truncate text-ink-100">
        {quote.name ? <span className="font-semibold">{quote.name} </span> : null}
        <span className="font-mono text-ink-300">{quote.symbol}</span>
      </span>
      <Sparkline series={quote.series} color={tone.stroke} width={184} height={44} />
      <span>
        As of <time dateTime={quote.as_of_local ?? quote.as_of}>{formatExchangeTime(quote)}</time>
      </span>
      {quote.stale && <span className="text-gold">Stale: older than one trading session</span>}
    </span>
  );
}
