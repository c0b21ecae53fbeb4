/** StockBot's trade-idea card: side, entry, the levels on a bar, the return since posting while open, the outcome once closed. */
import { useCallback, useSyncExternalStore } from "react";
import { direction, formatDateTime, formatPercent, formatPrice } from "../lib/format";
import { ideaBar, ideaReturn, SIDE_LABEL, statusLabel, type BarLayout, type MarkKind } from "../lib/ideas";
import type { QuoteEntry } from "../lib/quoteStore";
import type { Idea } from "../lib/types";
import { AuthorName } from "./AuthorScorecard";
import { quoteStore } from "./CashtagChip";
import { TONE } from "./QuoteCard";

const noop = () => () => {};
const none = () => undefined;

/** The idea's live quote while it is open (shared with every chip of the page); none once closed. */
function useLiveQuote(idea: Idea): QuoteEntry | undefined {
  const open = idea.status === "open";
  const subscribe = useCallback((fn: () => void) => quoteStore.subscribe(idea.symbol, fn), [idea.symbol]);
  const get = useCallback(() => quoteStore.get(idea.symbol), [idea.symbol]);
  return useSyncExternalStore(open ? subscribe : noop, open ? get : none);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", year: "numeric" });

function shortDate(ts: string | null | undefined): string {
  const d = ts ? new Date(ts) : null;
  return d && !Number.isNaN(d.getTime()) ? dateFormat.format(d) : "";
}

export function IdeaCard({ idea }: { idea: Idea }) {
  const entry = useLiveQuote(idea);
  const open = idea.status === "open";
  // A quote in another unit (a code the server now quotes differently) says nothing about this entry.
  const quote = entry?.status === "ok" && entry.quote.currency === idea.currency ? entry.quote : null;
  const live = open && quote ? ideaReturn(idea.side, idea.entry, quote.price) : null;
  const result = open ? live : (idea.return_pct ?? null);
  const tone = TONE[direction(result)];
  const price = (p: string) => formatPrice(p, idea.currency);
  const side = SIDE_LABEL[idea.side];

  return (
    <article
      className="w-full overflow-hidden rounded-xl border border-ink-600 bg-gradient-to-b from-ink-800 to-ink-850 shadow-lg shadow-black/30 sm:w-[24rem]"
      aria-label={`Trade idea: ${side.toLowerCase()} ${idea.symbol} by ${idea.author}`}
      data-testid="idea-card"
      data-status={idea.status}
    >
      <div className="flex items-center gap-2 px-4 pt-3">
        <span
          className={`rounded px-1.5 py-px text-[11px] font-bold uppercase tracking-wide ${idea.side === "long" ? "bg-up/15 text-up" : "bg-down/15 text-down"}`}
          data-testid="idea-side"
        >
          {side}
        </span>
        <span className="font-mono text-sm font-bold tracking-wide text-ink-100" data-testid="idea-symbol">
          {idea.symbol}
        </span>
        <span className="min-w-0 truncate text-xs text-ink-400">
          by <AuthorName username={idea.author} className="text-ink-200" />
        </span>
        <span className="ml-auto shrink-0">
          {open ? (
            <span className="rounded-full bg-accent/10 px-2 py-0.5 text-[11px] font-medium text-accent ring-1 ring-accent/30">Open</span>
          ) : (
            <span
              className={`rounded-full px-2 py-0.5 text-[11px] font-semibold ring-1 ${
                idea.status === "target_hit" ? "bg-up/15 text-up ring-up/30" : idea.status === "stopped" ? "bg-down/15 text-down ring-down/30" : "bg-ink-700 text-ink-300 ring-ink-600"
              }`}
              data-testid="idea-outcome"
            >
              {statusLabel(idea.status)}
            </span>
          )}
        </span>
      </div>
      <dl className="grid grid-cols-3 gap-2 px-4 pb-2 pt-2">
        <Figure label="Entry" value={price(idea.entry)} testId="idea-entry" />
        {open ? (
          <Figure label="Now" value={quote ? price(quote.price) : "—"} testId="idea-now" note={quote?.stale ? "stale" : undefined} />
        ) : (
          <Figure label="Exit" value={idea.exit ? price(idea.exit) : "—"} testId="idea-exit" />
        )}
        <div className="flex flex-col">
          <dt className="text-[10px] uppercase tracking-wide text-ink-400">{open ? "P&L since posted" : "Return"}</dt>
          <dd className={`font-mono text-sm font-semibold tabular-nums ${result === null ? "text-ink-400" : tone.text}`} data-testid={open ? "idea-pnl" : "idea-return"} data-direction={direction(result)}>
            {result === null ? (
              "—"
            ) : (
              <>
                <span aria-hidden="true">{tone.arrow} </span>
                <span className="sr-only">{tone.label} </span>
                {formatPercent(result)}
              </>
            )}
          </dd>
        </div>
      </dl>
      <LevelBar layout={ideaBar(idea, quote?.price ?? null)} price={price} />
      <div className="flex items-center justify-between gap-2 border-t border-ink-700/80 bg-ink-900/50 px-4 py-1.5 text-[11px] text-ink-400">
        {open ? (
          <span data-testid="idea-expiry">
            Until <time dateTime={idea.expires_at} title={formatDateTime(idea.expires_at)}>{shortDate(idea.expires_at)}</time>
          </span>
        ) : (
          <span data-testid="idea-closed">
            Closed <time dateTime={idea.closed_at ?? ""} title={idea.closed_at ? formatDateTime(idea.closed_at) : undefined}>{shortDate(idea.closed_at)}</time>
          </span>
        )}
        <span>
          Posted <time dateTime={idea.opened_at} title={formatDateTime(idea.opened_at)}>{shortDate(idea.opened_at)}</time>
        </span>
      </div>
    </article>
  );
}

function Figure({ label, value, testId, note }: { label: string; value: string; testId: string; note?: string }) {
  return (
    <div className="flex min-w-0 flex-col">
      <dt className="text-[10px] uppercase tracking-wide text-ink-400">{label}</dt>
      <dd className="truncate font-mono text-sm font-semibold tabular-nums text-ink-100" data-testid={testId}>
        {value}
        {note && <span className="ml-1 rounded bg-gold/15 px-1 align-middle text-[10px] font-normal uppercase text-gold">{note}</span>}
      </dd>
    </div>
  );
}

const MARK: Record<MarkKind, { word: string; cls: string }> = {
  stop: { word: "Stop", cls: "h-3 w-0.5 bg-down" },
  target: { word: "Target", cls: "h-3 w-0.5 bg-up" },
  entry: { word: "Entry", cls: "h-4 w-0.5 bg-ink-100" },
  now: { word: "Now", cls: "h-2.5 w-2.5 rounded-full bg-accent ring-2 ring-ink-850" },
  exit: { word: "Exit", cls: "h-2.5 w-2.5 rounded-full bg-gold ring-2 ring-ink-850" },
};

/** Stop, entry and target on one line from the lowest price to the highest, with the price now (or the exit). */
function LevelBar({ layout, price }: { layout: BarLayout; price: (p: string) => string }) {
  const words = layout.marks
    .slice()
    .sort((a, b) => a.at - b.at)
    .map((m) => `${MARK[m.kind].word} ${price(m.price)}`);
  const ends = layout.marks.filter((m) => m.kind === "stop" || m.kind === "target");
  return (
    <div className="px-4 pb-3">
      <div className="relative mx-1.5 h-4" role="img" aria-label={words.join(", ")} data-testid="idea-bar">
        <div className="absolute inset-x-0 top-1/2 h-1 -translate-y-1/2 rounded-full bg-ink-700" />
        {layout.loss && <Zone span={layout.loss} cls="bg-down/40" />}
        {layout.gain && <Zone span={layout.gain} cls="bg-up/40" />}
        {layout.marks.map((m) => (
          <span
            key={m.kind}
            className={`absolute top-1/2 -translate-x-1/2 -translate-y-1/2 ${MARK[m.kind].cls}`}
            style={{ left: `${m.at}%` }}
            title={`${MARK[m.kind].word} ${price(m.price)}`}
            data-mark={m.kind}
          />
        ))}
      </div>
      {ends.length > 0 && (
        <div className="relative mt-0.5 h-4 text-[10px] text-ink-400" aria-hidden="true">
          {ends.map((m) => (
            <span
              key={m.kind}
              className="absolute whitespace-nowrap tabular-nums"
              style={m.at > 50 ? { right: `${100 - m.at}%` } : { left: `${m.at}%` }}
            >
              {MARK[m.kind].word} {price(m.price)}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}

function Zone({ span, cls }: { span: { from: number; to: number }; cls: string }) {
  return <div className={`absolute top-1/2 h-1 -translate-y-1/2 ${cls}`} style={{ left: `${span.from}%`, width: `${span.to - span.from}%` }} />;
}
