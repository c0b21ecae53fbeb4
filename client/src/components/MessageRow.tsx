import { memo } from "react";
import { formatDateTime, formatTime } from "../lib/format";
import type { TimelineItem } from "../lib/messages";
import { Avatar } from "./Avatar";
import { MessageText } from "./MessageText";
import { QuoteCard } from "./QuoteCard";

interface Props {
  item: TimelineItem;
  me: string;
  compact: boolean;
}

export const MessageRow = memo(function MessageRow({ item, me, compact }: Props) {
  const mine = item.user.toLowerCase() === me.toLowerCase();
  const time = formatTime(item.ts);
  const full = formatDateTime(item.ts);
  // A several-code reply carries `quotes`; older replies only `quote`.
  const quotes = item.quotes?.length ? item.quotes : item.quote ? [item.quote] : [];
  // Cashtags are chips in what people write; bot replies and local echoes stay plain text.
  const chips = !item.bot && !item.local && item.text.includes("$");

  return (
    <div
      className={`group relative flex gap-3 px-3 sm:px-5 ${compact ? "py-0.5" : "pt-2.5 pb-0.5"} ${
        item.ephemeral
          ? "bg-gold/[0.04] shadow-[inset_2px_0_0_rgba(245,181,68,0.6)]"
          : mine
            ? "bg-accent/[0.04] shadow-[inset_2px_0_0_rgba(56,189,248,0.55)]"
            : ""
      } hover:bg-ink-800/60`}
      data-testid="message"
      data-seq={item.seq ?? ""}
      data-mine={mine ? "true" : "false"}
      data-ephemeral={item.ephemeral ? "true" : "false"}
    >
      <div className="relative w-9 shrink-0">
        {compact ? (
          // Out of flow so a long clock ("10:20 AM") never makes the row taller. Shown on hover
          // where there is hover; always on touch screens, which have none.
          <time
            dateTime={item.ts}
            title={full}
            className="absolute right-0 top-0.5 whitespace-nowrap text-[10px] leading-5 text-ink-400 opacity-0 tabular-nums group-hover:opacity-100 group-focus-within:opacity-100 [@media(hover:none)]:opacity-100"
            data-testid="compact-time"
          >
            {time}
          </time>
        ) : (
          <Avatar name={item.user} bot={item.bot} />
        )}
      </div>
      <div className="min-w-0 flex-1">
        {/* A grouped follow-up shows no name, but a screen reader still says whose it is. */}
        {compact && <span className="sr-only">{item.user}: </span>}
        {!compact && (
          <div className="flex flex-wrap items-baseline gap-x-2">
            <span className={`font-semibold ${item.bot ? "text-up" : mine ? "text-accent" : "text-ink-100"}`} data-testid="author">
              {item.user}
            </span>
            {item.bot && (
              <span className="rounded bg-up/15 px-1 py-px text-[10px] font-bold uppercase tracking-wide text-up">Bot</span>
            )}
            {mine && !item.bot && <span className="text-xs text-ink-400">you</span>}
            <time dateTime={item.ts} title={full} className="text-xs text-ink-400 tabular-nums">
              {time}
            </time>
          </div>
        )}
        {quotes.length > 0 ? (
          <div className="mt-1">
            <p className="mb-1.5 text-[15px] leading-6 text-ink-200 whitespace-pre-wrap break-words" data-testid="message-text">
              {item.text}
            </p>
            <div className="flex flex-wrap gap-2" data-testid="quote-cards">
              {quotes.map((q, i) => (
                <QuoteCard key={`${q.symbol}-${i}`} quote={q} />
              ))}
            </div>
          </div>
        ) : (
          // Text is rendered as text, never as HTML; cashtags become chips beside it.
          <p
            className={`whitespace-pre-wrap break-words text-[15px] leading-6 [overflow-wrap:anywhere] ${
              item.local ? "font-mono text-sm text-ink-300" : "text-ink-100"
            }`}
            data-testid="message-text"
          >
            {item.local ? item.text : <MessageText text={item.text} chips={chips} stamps={item.stamps} />}
          </p>
        )}
        {item.ephemeral && (
          <p className="mt-0.5 flex items-center gap-1 text-xs text-gold/90" data-testid="ephemeral-note">
            <svg viewBox="0 0 20 20" className="h-3.5 w-3.5" fill="currentColor" aria-hidden="true">
              <path d="M10 4C5.5 4 2.3 7.3 1 10c1.3 2.7 4.5 6 9 6s7.7-3.3 9-6c-1.3-2.7-4.5-6-9-6zm0 10a4 4 0 110-8 4 4 0 010 8zm0-2a2 2 0 100-4 2 2 0 000 4z" />
            </svg>
            Only visible to you
          </p>
        )}
      </div>
    </div>
  );
});
