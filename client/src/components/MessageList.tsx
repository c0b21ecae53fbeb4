import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { eventText } from "../lib/channelEvents";
import type { ChatClient } from "../lib/chatClient";
import type { ChannelState } from "../lib/channelState";
import { sameUser } from "../lib/ids";
import { dayKey, dayLabel, formatDateTime, formatTime } from "../lib/format";
import type { TimelineItem } from "../lib/messages";
import type { JumpTarget } from "../lib/search";
import { MessageRow } from "./MessageRow";

const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 150;
const GROUP_WINDOW_MS = 5 * 60 * 1000;
/** A first guess at a row's height; each row is measured once it is drawn. */
const ESTIMATED_ROW_PX = 52;
/** How long a message jumped to (from search) stays marked. */
const FLASH_MS = 2500;

interface Props {
  client: ChatClient;
  channel: string;
  state: ChannelState;
  me: string;
  /** A message to scroll to, mark and focus once it is in `state.items` (a search hit). */
  jumpTo?: JumpTarget | null;
  onJumped?: (target: JumpTarget) => void;
  /** The "new messages" line goes above the first message by someone else after this seq (the read mark when opened). */
  newAfter?: number | null;
}

/**
 * The channel's messages, windowed: only the rows on screen (and a few around them) are in the
 * page, and each row's day separator and grouping look only at the row before it, so a new
 * message costs the same at 20 messages as at 2,000.
 */
// Memoized: it redraws when its own channel changes, not for every message elsewhere or tick.
export const MessageList = memo(function MessageList({ client, channel, state, me, jumpTo, onJumped, newAfter = null }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const prependFrom = useRef<number | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string | null>(null);
  const [unseen, setUnseen] = useState(0);
  const lastNewest = useRef<string | undefined>(undefined);
  const lastTop = useRef(0);
  const items = state.items;
  const firstNew = useMemo(() => firstNewKey(items, newAfter, me), [items, newAfter, me]);

  // eslint-disable-next-line react-hooks/incompatible-library -- a React Compiler notice; this build does not use the compiler
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ESTIMATED_ROW_PX,
    getItemKey: (i) => items[i]!.key,
    overscan: 5,
  });
  const total = virtualizer.getTotalSize();

  // A search hit: centred (leaving the bottom, so live messages do not pull the view away), then
  // focused and marked for a moment once its row is drawn.
  const [flash, setFlash] = useState<string | null>(null);
  const jumped = useRef(0);
  const flashTimer = useRef(0);
  useEffect(() => () => window.clearTimeout(flashTimer.current), []);
  useEffect(() => {
    if (!jumpTo || jumped.current === jumpTo.nonce) return;
    const index = items.findIndex((i) => i.id === jumpTo.id);
    if (index < 0) return;
    jumped.current = jumpTo.nonce;
    atBottom.current = false;
    virtualizer.scrollToIndex(index, { align: "center" });
    onJumped?.(jumpTo);
    const mark = (tries: number) => {
      const rows = scroller.current?.querySelectorAll<HTMLElement>("[data-testid=message]") ?? [];
      const row = [...rows].find((r) => r.dataset.id === jumpTo.id);
      if (!row && tries > 0) return void requestAnimationFrame(() => mark(tries - 1));
      setFlash(jumpTo.id);
      // A tombstone is not focusable: then the list itself.
      (row && row.tabIndex >= 0 ? row : scroller.current)?.focus({ preventScroll: true });
      window.clearTimeout(flashTimer.current);
      flashTimer.current = window.setTimeout(() => setFlash(null), FLASH_MS);
    };
    requestAnimationFrame(() => mark(30));
  }, [jumpTo, items, virtualizer, onJumped]);

  const loadOlder = useCallback(async () => {
    if (loadingOlder || !state.hasMore) return;
    const el = scroller.current;
    prependFrom.current = el ? el.scrollHeight - el.scrollTop : null;
    setLoadingOlder(true);
    setOlderError(null);
    try {
      await client.loadOlder(channel);
    } catch (e) {
      prependFrom.current = null;
      setOlderError(e instanceof Error ? e.message : "Could not load older messages.");
    } finally {
      setLoadingOlder(false);
    }
  }, [client, channel, loadingOlder, state.hasMore]);

  // Keep the view where the reader is: pinned to the bottom for live messages (and for one's own,
  // wherever one was reading), anchored to the same message when older history is prepended.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const newest = items.at(-1);
    const arrived = newest !== undefined && newest.key !== lastNewest.current;
    const before = lastNewest.current;
    lastNewest.current = newest?.key;
    if (prependFrom.current !== null) {
      el.scrollTop = el.scrollHeight - prependFrom.current;
      prependFrom.current = null;
      return;
    }
    const mine = newest?.local || (newest?.user.toLowerCase() === me.toLowerCase() && !newest.ephemeral);
    if (arrived && before !== undefined && mine) {
      atBottom.current = true;
      setUnseen(0);
    }
    if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    } else if (arrived && before !== undefined) {
      setUnseen((n) => n + newerThan(items, before));
    }
  }, [items, me]);

  // Rows are measured as they are drawn, which changes the height below the reader: stay pinned.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && atBottom.current && prependFrom.current === null) el.scrollTop = el.scrollHeight;
  }, [total]);

  // The list itself changes height too (the message box growing a line, a phone's keyboard or
  // toolbar): a reader at the bottom stays there.
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const watch = new ResizeObserver(() => {
      if (atBottom.current && prependFrom.current === null) el.scrollTop = el.scrollHeight;
    });
    watch.observe(el);
    return () => watch.disconnect();
  }, []);

  // A short first page may not fill the screen; load more until it does (or history ends).
  useEffect(() => {
    const el = scroller.current;
    if (el && state.hasMore && !loadingOlder && el.scrollHeight <= el.clientHeight + NEAR_TOP_PX) void loadOlder();
  }, [state.hasMore, items, loadingOlder, loadOlder]);

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    const near = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    // Only the reader moving up leaves the bottom; rows landing below in a burst do not.
    const movedUp = el.scrollTop < lastTop.current;
    lastTop.current = el.scrollTop;
    if (near) atBottom.current = true;
    else if (movedUp) atBottom.current = false;
    if (atBottom.current && unseen) setUnseen(0);
    if (el.scrollTop < NEAR_TOP_PX) void loadOlder();
  }

  function jumpToLatest() {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setUnseen(0);
  }

  const rows = virtualizer.getVirtualItems();
  return (
    <div className="relative min-h-0 flex-1">
      <div
        ref={scroller}
        onScroll={onScroll}
        className="h-full overflow-y-auto overscroll-contain py-3 outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-accent"
        role="log"
        aria-label={`Messages in #${channel}`}
        aria-live="polite"
        aria-relevant="additions"
        tabIndex={0}
        data-testid="messages"
      >
        <div className="px-3 pb-2 text-center sm:px-5">
          {state.hasMore ? (
            <button
              type="button"
              onClick={() => void loadOlder()}
              disabled={loadingOlder}
              className="rounded-full border border-ink-600 px-3 py-1 text-xs text-ink-300 hover:bg-ink-700 disabled:opacity-60 focus-ring"
            >
              {loadingOlder ? "Loading older messages…" : "Load older messages"}
            </button>
          ) : (
            state.joined && (
              <div className="py-6 text-ink-400">
                <div className="mb-1 text-2xl font-semibold text-ink-200">#{channel}</div>
                <p className="text-sm">This is the start of #{channel}.</p>
              </div>
            )
          )}
          {olderError && (
            <p role="alert" className="mt-1 text-xs text-down">
              {olderError}
            </p>
          )}
        </div>
        <ol className="relative" style={{ height: total }} aria-label="Message list">
          {rows.map((row) => {
            const item = items[row.index]!;
            const prev = items[row.index - 1];
            const newDay = !prev || dayKey(prev.ts) !== dayKey(item.ts);
            return (
              <li
                key={row.key}
                ref={virtualizer.measureElement}
                data-index={row.index}
                aria-setsize={items.length}
                aria-posinset={row.index + 1}
                // Contained: a row added or measured does not send the browser re-laying out the others.
                // Raised while hovered or focused, so the row's toolbar sits above the row before it.
                // Marked at once, faded out.
                className={`absolute left-0 top-0 w-full [contain:layout_style] hover:z-10 focus-within:z-10 ${
                  flash && item.id === flash ? "bg-gold/20 shadow-[inset_3px_0_0_var(--color-gold)]" : "transition-colors duration-700"
                }`}
                data-highlighted={flash && item.id === flash ? "true" : undefined}
                style={{ transform: `translateY(${row.start}px)` }}
              >
                {newDay && <DaySeparator ts={item.ts} />}
                {item.key === firstNew && <NewMessagesLine />}
                {item.event ? (
                  <EventLine item={item} />
                ) : (
                  <MessageRow item={item} me={me} compact={!newDay && !!prev && continues(prev, item)} />
                )}
              </li>
            );
          })}
        </ol>
      </div>
      {unseen > 0 && (
        <button
          type="button"
          onClick={jumpToLatest}
          className="absolute bottom-3 left-1/2 -translate-x-1/2 rounded-full bg-accent px-3 py-1 text-sm font-semibold text-ink-950 shadow-lg shadow-black/50 focus-ring"
        >
          {unseen} new message{unseen === 1 ? "" : "s"} ↓
        </button>
      )}
    </div>
  );
});

/** A channel event's system line: "bob muted carol until 14:05". Its text is fixed when it is first drawn. */
const EventLine = memo(function EventLine({ item }: { item: TimelineItem }) {
  return (
    <div className="flex items-baseline gap-2 px-3 py-1 text-xs text-ink-400 sm:px-5" data-testid="channel-event" data-seq={item.seq}>
      <span className="w-9 shrink-0 text-center" aria-hidden="true">
        ·
      </span>
      <p className="min-w-0 italic">{item.event ? eventText(item.event) : ""}</p>
      <time dateTime={item.ts} title={formatDateTime(item.ts)} className="shrink-0 tabular-nums">
        {formatTime(item.ts)}
      </time>
    </div>
  );
});

/** Where the unread part of the channel begins, as it was when the channel was opened. */
function NewMessagesLine() {
  return (
    <div className="my-1 flex items-center gap-2 px-3 sm:px-5" role="separator" aria-label="New messages" data-testid="new-messages">
      <span className="h-px flex-1 bg-down/70" aria-hidden="true" />
      <span className="text-xs font-semibold text-down" aria-hidden="true">
        New
      </span>
    </div>
  );
}

/** The key of the first message by someone else after `after` (looking back from the newest: they are near the end). */
function firstNewKey(items: readonly TimelineItem[], after: number | null, me: string): string | null {
  if (after === null) return null;
  let key: string | null = null;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (item.seq === undefined) continue;
    if (item.seq <= after) break;
    if (!item.event && !sameUser(item.user, me)) key = item.key;
  }
  return key;
}

function DaySeparator({ ts }: { ts: string }) {
  return (
    <div className="relative my-3 flex items-center px-3 sm:px-5" data-testid="day-separator">
      <span className="h-px flex-1 bg-ink-700" aria-hidden="true" />
      <span className="mx-3 rounded-full border border-ink-700 bg-ink-900 px-3 py-0.5 text-xs font-medium text-ink-300">
        {dayLabel(ts)}
      </span>
      <span className="h-px flex-1 bg-ink-700" aria-hidden="true" />
    </div>
  );
}

/** How many items come after the one keyed `key` (counting back from the end: it is near). */
function newerThan(items: readonly TimelineItem[], key: string): number {
  for (let i = items.length - 1, n = 0; i >= 0; i--, n++) if (items[i]!.key === key) return n;
  return 1;
}

/** Whether `item` reads as a continuation of `prev` (same author, shortly after). */
function continues(prev: TimelineItem, item: TimelineItem): boolean {
  if (prev.event || prev.user !== item.user || !!prev.ephemeral !== !!item.ephemeral || item.quote || prev.quote) return false;
  const dt = new Date(item.ts).getTime() - new Date(prev.ts).getTime();
  return dt >= 0 && dt < GROUP_WINDOW_MS;
}
