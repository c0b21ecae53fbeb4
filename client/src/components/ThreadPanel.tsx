import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { ChatClient } from "../lib/chatClient";
import { threadOf, type ChannelState } from "../lib/channelState";
import type { TimelineItem } from "../lib/messages";
import { Composer } from "./Composer";
import { MessageRow } from "./MessageRow";

const GROUP_WINDOW_MS = 5 * 60 * 1000;

interface Props {
  client: ChatClient;
  channel: string;
  rootId: string;
  state: ChannelState;
  me: string;
  online: boolean;
  /** "#name" (the default), or "@peer" for a DM. */
  place?: string;
  /** The channel's slow mode and whether it spares the user, for the reply box. */
  slowModeS?: number;
  slowExempt?: boolean;
  onClose: () => void;
}

/**
 * A thread: its root, its replies (loaded from the replies endpoint, then live) and a composer that
 * sends with `reply_to`. A side panel on wide screens, the whole width on narrow ones.
 */
export function ThreadPanel({
  client,
  channel,
  rootId,
  state,
  me,
  online,
  place = `#${channel}`,
  slowModeS = 0,
  slowExempt = false,
  onClose,
}: Props) {
  const { root, replies, loaded } = threadOf(state, rootId);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const scroller = useRef<HTMLDivElement>(null);
  const requested = useRef<string | null>(null);

  useEffect(() => {
    // once per thread (and per retry); the root's own changes do not reload it
    const key = `${rootId}#${attempt}`;
    if (loaded || !root || requested.current === key) return;
    requested.current = key;
    client.loadThread(channel, root).then(
      () => setError(null),
      (e: unknown) => setError(e instanceof Error ? e.message : "Could not load the thread."),
    );
  }, [client, channel, rootId, root, loaded, attempt]);

  // New replies show at the bottom, where the composer is.
  const count = replies.length;
  useEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count]);

  function onKeyDown(e: KeyboardEvent<HTMLElement>) {
    if (e.key === "Escape" && !e.defaultPrevented) {
      e.preventDefault();
      onClose();
    }
  }

  return (
    // A region (not a complementary landmark, which would sit inside <main>).
    <section
      aria-label="Thread"
      onKeyDown={onKeyDown}
      className="fixed inset-0 z-30 flex flex-col bg-ink-900 md:static md:z-auto md:w-[22rem] md:shrink-0 md:border-l md:border-ink-700 lg:w-[26rem]"
      data-testid="thread-panel"
    >
      <header className="flex items-center gap-2 border-b border-ink-700 px-3 py-2.5 sm:px-4">
        <h2 className="text-lg font-semibold">Thread</h2>
        <span className="min-w-0 truncate text-sm text-ink-400">{place}</span>
        <button
          type="button"
          onClick={onClose}
          aria-label="Close thread"
          className="ml-auto rounded-md p-1.5 text-ink-300 hover:bg-ink-700 focus-ring"
        >
          <svg viewBox="0 0 20 20" className="h-5 w-5" fill="currentColor" aria-hidden="true">
            <path d="M4.3 4.3a1 1 0 011.4 0L10 8.6l4.3-4.3a1 1 0 111.4 1.4L11.4 10l4.3 4.3a1 1 0 01-1.4 1.4L10 11.4l-4.3 4.3a1 1 0 01-1.4-1.4L8.6 10 4.3 5.7a1 1 0 010-1.4z" />
          </svg>
        </button>
      </header>
      <div ref={scroller} className="min-h-0 flex-1 overflow-y-auto py-3">
        {root ? (
          <>
            <MessageRow item={root} me={me} compact={false} inThread />
            <div className="my-2 flex items-center gap-3 px-3 sm:px-5" data-testid="thread-count">
              <span className="text-xs text-ink-400">
                {root.reply_count ?? replies.length} {(root.reply_count ?? replies.length) === 1 ? "reply" : "replies"}
              </span>
              <span className="h-px flex-1 bg-ink-700" aria-hidden="true" />
            </div>
            {error ? (
              <div className="px-3 sm:px-5">
                <p role="alert" className="text-sm text-down">
                  {error}
                </p>
                <button
                  type="button"
                  onClick={() => setAttempt((n) => n + 1)}
                  className="mt-1 rounded-md border border-ink-600 px-2.5 py-1 text-xs text-ink-200 hover:bg-ink-700 focus-ring"
                >
                  Try again
                </button>
              </div>
            ) : (
              !loaded && <p className="px-3 text-sm text-ink-400 sm:px-5">Loading replies…</p>
            )}
            <ol aria-label="Replies">
              {replies.map((r, i) => (
                <li key={r.key}>
                  <MessageRow item={r} me={me} compact={i > 0 && continues(replies[i - 1]!, r)} inThread />
                </li>
              ))}
            </ol>
          </>
        ) : (
          <p className="px-3 text-sm text-ink-400 sm:px-5">This thread is not available.</p>
        )}
      </div>
      {root && !root.deleted && (
        <Composer
          client={client}
          channel={channel}
          online={online}
          replyTo={rootId}
          inputId="thread-composer"
          label="Reply in thread"
          focusOnMount
          place={place}
          mutedUntil={state.mutedUntil}
          slowModeS={slowModeS}
          slowExempt={slowExempt}
        />
      )}
    </section>
  );
}

function continues(prev: TimelineItem, item: TimelineItem): boolean {
  if (prev.user !== item.user) return false;
  const dt = new Date(item.ts).getTime() - new Date(prev.ts).getTime();
  return dt >= 0 && dt < GROUP_WINDOW_MS;
}
