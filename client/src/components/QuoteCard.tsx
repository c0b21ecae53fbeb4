import {
  direction,
  formatAsOf,
  formatChange,
  formatExchangeTime,
  formatPercent,
  formatPrice,
  marketStateLabel,
} from "../lib/format";
import { sparkline } from "../lib/sparkline";
import type { Quote } from "../lib/types";

export const TONE = {
  up: { text: "text-up", stroke: "#22c55e", arrow: "▲", label: "up" },
  down: { text: "text-down", stroke: "#f43f5e", arrow: "▼", label: "down" },
  flat: { text: "text-ink-300", stroke: "#98a6ba", arrow: "■", label: "unchanged" },
} as const;

/** One quote of a bot reply; the reply's text is rendered by the row above the cards. */
export function QuoteCard({ quote }: { quote: Quote }) {
  const dir = direction(quote.change);
  const tone = TONE[dir];
  const state = marketStateLabel(quote.market_state);
  const open = /open|pre|after/i.test(state);

  return (
    <article
      className="w-full overflow-hidden sm:w-[22rem] rounded-xl border border-ink-600 bg-gradient-to-b from-ink-800 to-ink-850 shadow-lg shadow-black/30"
      aria-label={`Quote for ${quote.symbol}`}
      data-testid="quote-card"
      data-stale={quote.stale ? "true" : "false"}
    >
      <div className="flex items-start justify-between gap-3 px-4 pt-3">
        <div className="min-w-0">
          <div className="font-mono text-sm font-bold tracking-wide text-ink-100" data-testid="quote-symbol">
            {quote.symbol}
          </div>
          {quote.name && <div className="truncate text-xs text-ink-400">{quote.name}</div>}
        </div>
        <div className="flex shrink-0 items-center gap-1.5">
          {quote.stale && (
            <span
              className="rounded-full bg-gold/15 px-2 py-0.5 text-[11px] font-medium text-gold ring-1 ring-gold/30"
              title="Older than one trading session"
              data-testid="quote-stale"
            >
              Stale
            </span>
          )}
          {state && (
            <span
              className={`shrink-0 rounded-full px-2 py-0.5 text-[11px] font-medium ${
                open ? "bg-up/15 text-up ring-1 ring-up/30" : "bg-ink-700 text-ink-300 ring-1 ring-ink-600"
              }`}
            >
              {state}
            </span>
          )}
        </div>
      </div>
      <div className="flex items-end justify-between gap-3 px-4 pb-2 pt-1">
        <div className="min-w-0">
          <div className="font-mono text-2xl font-semibold tabular-nums text-ink-100" data-testid="quote-price">
            {formatPrice(quote.price, quote.currency)}
          </div>
          <div className={`font-mono text-sm font-medium tabular-nums ${tone.text}`} data-testid="quote-change" data-direction={dir}>
            <span aria-hidden="true">{tone.arrow} </span>
            <span className="sr-only">{tone.label} </span>
            {quote.change != null ? formatChange(quote.change) : "—"}
            {quote.change_pct != null && ` (${formatPercent(quote.change_pct)})`}
          </div>
        </div>
        <Sparkline series={quote.series} color={tone.stroke} />
      </div>
      <div className="flex items-center justify-between gap-2 border-t border-ink-700/80 bg-ink-900/50 px-4 py-1.5 text-[11px] text-ink-400">
        <span>
          As of{" "}
          <time dateTime={quote.as_of_local ?? quote.as_of} title={formatAsOf(quote.as_of)}>
            {quote.exchange_tz ? formatExchangeTime(quote) : formatAsOf(quote.as_of)}
          </time>
        </span>
        <span className="uppercase tracking-wide">{quote.source}</span>
      </div>
    </article>
  );
}

const W = 120;
const H = 40;

/** A price trend from a quote's `series`; nothing when it has fewer than two points. */
export function Sparkline({ series, color, width = W, height = H }: { series: readonly string[]; color: string; width?: number; height?: number }) {
  const g = sparkline(series ?? [], width, height, 3);
  if (!g) return null;
  const gradId = `spark-${color.slice(1)}`;
  const last = g.points[g.points.length - 1]!;
  return (
  <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} className="shrink-0" role="img" aria-label={`Price trend over ${series.length} points`} data-testid="sparkline">
    <defs>
      <linearGradient id={gradId} x1="0" x2="0" y1="0" y2="1">
        <stop offset="0%" stopColor={color} stopOpacity="0.35" />
        <stop offset="100%" stopColor={color} stopOpacity="0" />
      </linearGradient>
    </defs>
    <path d={g.area} fill={`url(#${gradId})`} />
    <path d={g.path} fill="none" stroke={color} strokeWidth="1.75" strokeLinejoin="round" strokeLinecap="round" />
    <circle cx={last[0]} cy={last[1]} r="2.5" fill={color} />
  </svg>
  );
}
