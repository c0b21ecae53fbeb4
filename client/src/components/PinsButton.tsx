import { useEffect, useRef, useState } from "react";
import type { ChatClient } from "../lib/chatClient";
import { formatDateTime } from "../lib/format";
import type { TimelineItem } from "../lib/messages";
import { usePopover } from "./popover";

interface Props {
  client: ChatClient;
  channel: string;
  /** Null until loaded; kept current by pin and unpin changes (chatState). */
  pins: TimelineItem[] | null;
  moderates: boolean;
}

/** The channel header's pin count, opening the list of pinned messages. */
export function PinsButton({ client, channel, pins, moderates }: Props) {
  const { open, setOpen, close, buttonProps, panelProps } = usePopover();
  const [error, setError] = useState<string | null>(null);
  const [unpinError, setUnpinError] = useState<string | null>(null);
  const requested = useRef(false);

  // Loaded once per channel view (and again when opened after a failure); live afterwards.
  useEffect(() => {
    if (pins !== null || requested.current) return;
    requested.current = true;
    client.loadPins(channel).then(
      () => setError(null),
      (e: unknown) => setError(e instanceof Error ? e.message : "Could not load pinned messages."),
    );
  }, [client, channel, pins]);

  function toggle() {
    if (!open && pins === null) {
      requested.current = false;
      setError(null);
      void client.loadPins(channel).catch((e: unknown) => setError(e instanceof Error ? e.message : "Could not load pinned messages."));
    }
    setUnpinError(null);
    setOpen((o) => !o);
  }

  async function unpin(m: TimelineItem) {
    if (!m.id) return;
    const res = await client.unpin(channel, m.id);
    setUnpinError(res.ok ? null : res.error.message || res.error.code);
  }

  const count = pins?.length ?? 0;
  return (
    <div className="relative">
      <button
        {...buttonProps}
        type="button"
        onClick={toggle}
        className="flex items-center gap-1 rounded-md px-2 py-1 text-sm text-ink-300 hover:bg-ink-700 focus-ring"
        data-testid="pins-button"
      >
        <svg viewBox="0 0 20 20" className="h-4 w-4" fill="currentColor" aria-hidden="true">
          <path d="M12.5 2.5l5 5-2 .5-3 3 .5 4-1.5 1.5-3.5-3.5L4 17l-1-1 4-4-3.5-3.5L5 7l4 .5 3-3 .5-2z" />
        </svg>
        <span className="sr-only">Pinned messages</span>
        <span className="tabular-nums" data-testid="pins-count">
          {count}
        </span>
      </button>
      {open && (
        <div
          {...panelProps}
          aria-label="Pinned messages"
          className="absolute right-0 top-full z-30 mt-1 flex max-h-[min(70vh,28rem)] w-[min(92vw,24rem)] flex-col overflow-hidden rounded-xl border border-ink-600 bg-ink-850 shadow-2xl shadow-black/60 outline-none"
        >
          <div className="flex items-center border-b border-ink-700 px-3 py-2">
            <h2 className="text-sm font-semibold">Pinned messages</h2>
            <button
              type="button"
              onClick={close}
              className="ml-auto rounded px-1.5 text-sm text-ink-300 hover:bg-ink-700 focus-ring"
              aria-label="Close pinned messages"
            >
              ✕
            </button>
          </div>
          <div className="min-h-0 overflow-y-auto p-2">
            {error && (
              <p role="alert" className="px-1 text-sm text-down">
                {error}
              </p>
            )}
            {unpinError && (
              <p role="alert" className="px-1 text-sm text-down">
                {unpinError}
              </p>
            )}
            {pins === null ? (
              !error && <p className="px-1 text-sm text-ink-400">Loading…</p>
            ) : pins.length === 0 ? (
              <p className="px-1 py-2 text-sm text-ink-400">Nothing is pinned in #{channel}.</p>
            ) : (
              <ul className="flex flex-col gap-1" aria-label={`${pins.length} pinned`}>
                {pins.map((m) => (
                  <li key={m.key} className="rounded-lg px-2 py-1.5 hover:bg-ink-800" data-testid="pinned-message">
                    <div className="flex items-baseline gap-2">
                      <span className="text-sm font-semibold text-ink-100">{m.user}</span>
                      <time dateTime={m.ts} className="text-xs text-ink-400">
                        {formatDateTime(m.ts)}
                      </time>
                      {moderates && (
                        <button
                          type="button"
                          onClick={() => void unpin(m)}
                          className="ml-auto rounded px-1.5 text-xs text-ink-300 hover:bg-ink-700 hover:text-ink-100 focus-ring"
                        >
                          Unpin
                        </button>
                      )}
                    </div>
                    <p className="line-clamp-3 whitespace-pre-wrap break-words text-sm text-ink-200 [overflow-wrap:anywhere]">{m.text}</p>
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
