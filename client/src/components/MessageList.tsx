import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { ChatClient } from "../lib/chatClient";
import type { ChannelState } from "../lib/chatState";
import { withDaySeparators } from "../lib/format";
import type { TimelineItem } from "../lib/messages";
import { MessageRow } from "./MessageRow";

const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 150;
const GROUP_WINDOW_MS = 5 * 60 * 1000;

interface Props {
  client: ChatClient;
  channel: string;
  state: ChannelState;
  me: string;
}

export function MessageList({ client, channel, state, me }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const prependFrom = useRef<number | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string | null>(null);
  const [unseen, setUnseen] = useState(0);
  const lastCount = useRef(0);

  const rows = useMemo(() => withDaySeparators(state.items), [state.items]);

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

  // Keep the view where the reader is: pinned to the bottom for live messages, anchored
  // to the same message when older history is prepended above.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const added = state.items.length - lastCount.current;
    lastCount.current = state.items.length;
    if (prependFrom.current !== null) {
      el.scrollTop = el.scrollHeight - prependFrom.current;
      prependFrom.current = null;
      return;
    }
    if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    } else if (added > 0) {
      setUnseen((n) => n + added);
    }
  }, [state.items]);

  // A short first page may not fill the screen; load more until it does (or history ends).
  useEffect(() => {
    const el = scroller.current;
    if (el && state.hasMore && !loadingOlder && el.scrollHeight <= el.clientHeight + NEAR_TOP_PX) void loadOlder();
  }, [state.hasMore, state.items, loadingOlder, loadOlder]);

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
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
        <ol className="space-y-0" aria-label="Message list">
          {rows.map((row, i) => {
            if (row.kind === "day") {
              return (
                <li key={row.key} className="relative my-3 flex items-center px-3 sm:px-5" data-testid="day-separator">
                  <span className="h-px flex-1 bg-ink-700" aria-hidden="true" />
                  <span className="mx-3 rounded-full border border-ink-700 bg-ink-900 px-3 py-0.5 text-xs font-medium text-ink-300">
                    {row.label}
                  </span>
                  <span className="h-px flex-1 bg-ink-700" aria-hidden="true" />
                </li>
              );
            }
            const prev = rows[i - 1];
            const compact = prev?.kind === "item" && continues(prev.item, row.item);
            return <MessageRow key={row.key} item={row.item} me={me} compact={compact} />;
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
}

/** Whether `item` reads as a continuation of `prev` (same author, shortly after). */
function continues(prev: TimelineItem, item: TimelineItem): boolean {
  if (prev.user !== item.user || !!prev.ephemeral !== !!item.ephemeral || item.quote || prev.quote) return false;
  const dt = new Date(item.ts).getTime() - new Date(prev.ts).getTime();
  return dt >= 0 && dt < GROUP_WINDOW_MS;
}
