import { useEffect, useState } from "react";
import { channelLabel } from "../lib/access";
import type { ChatClient } from "../lib/chatClient";
import type { ChatState } from "../lib/chatState";
import { formatAsOf, formatDateTime } from "../lib/format";
import type { ChatNotification, NotificationKind } from "../lib/types";
import { unreadBadge } from "../lib/unread";
import { DesktopNotifications } from "./NotificationSettings";
import { usePopover } from "./popover";

const KIND_LABEL: Record<NotificationKind, string> = {
  mention: "Mention",
  dm: "Direct message",
  keyword: "Keyword",
  cashtag: "Cashtag",
  message: "Message",
  alert: "Price alert",
  idea: "Trade idea",
};

interface Props {
  client: Pick<ChatClient, "loadInbox" | "setInboxOpen">;
  chat: ChatState;
  /** Open a channel (the one a notification is about). */
  onSelect: (channel: string) => void;
  onOpenSettings: () => void;
}

/**
 * The bell: how many notifications came since the inbox was last looked at, and the inbox itself,
 * newest first, live ones on top and older pages on request. A notification about a channel opens it.
 */
export function NotificationInbox({ client, chat, onSelect, onOpenSettings }: Props) {
  const { open, setOpen, close, buttonProps, panelProps } = usePopover();
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const { inbox } = chat;
  const count = unreadBadge(inbox.unseen);

  async function load(more: boolean) {
    setLoading(true);
    setError(null);
    try {
      await client.loadInbox(more);
    } catch (e) {
      setError(e instanceof Error ? e.message : "Could not load notifications.");
    } finally {
      setLoading(false);
    }
  }

  function show(next: boolean) {
    setOpen(next);
    if (!next) return;
    client.setInboxOpen(true);
    if (!inbox.loaded) void load(false);
  }

  // However it closes (or unmounts while open), nobody is looking at the inbox any more.
  useEffect(() => {
    if (!open) return;
    return () => client.setInboxOpen(false);
  }, [open, client]);

  function pick(n: ChatNotification) {
    if (!n.channel) return;
    show(false);
    onSelect(n.channel);
  }

  // The panel hangs from the nearest positioned box around the bell (the sidebar's header), not the bell.
  return (
    <div>
      <button
        {...buttonProps}
        type="button"
        onClick={() => show(!open)}
        className="relative flex items-center rounded-md p-1.5 text-ink-300 hover:bg-ink-700 hover:text-ink-100 focus-ring"
        data-testid="inbox-button"
      >
        <BellIcon />
        <span className="sr-only">Notifications{count ? `, ${inbox.unseen} new` : ""}</span>
        {count && (
          <span
            aria-hidden="true"
            className="absolute -right-1 -top-1 min-w-4 rounded-full bg-down px-1 text-center text-[10px] font-bold leading-4 text-white tabular-nums"
            data-testid="inbox-count"
          >
            {count}
          </span>
        )}
      </button>
      {open && (
        <div
          {...panelProps}
          aria-label="Notifications"
          className="absolute left-2 top-full z-30 mt-1 flex max-h-[min(75vh,32rem)] w-[min(92vw,24rem)] flex-col overflow-hidden rounded-xl border border-ink-600 bg-ink-850 shadow-2xl shadow-black/60 outline-none"
          data-testid="inbox"
        >
          <div className="flex items-center gap-2 border-b border-ink-700 px-3 py-2">
            <h2 className="text-sm font-semibold">Notifications</h2>
            <button
              type="button"
              onClick={() => {
                show(false);
                onOpenSettings();
              }}
              className="ml-auto rounded px-1.5 py-0.5 text-xs text-ink-300 hover:bg-ink-700 hover:text-ink-100 focus-ring"
            >
              Settings
            </button>
            <button type="button" onClick={close} className="rounded px-1.5 text-sm text-ink-300 hover:bg-ink-700 focus-ring" aria-label="Close notifications">
              ✕
            </button>
          </div>
          <div className="min-h-0 overflow-y-auto p-2">
            <DesktopNotifications compact />
            {error && (
              <p role="alert" className="px-1 py-1 text-sm text-down">
                {error}
              </p>
            )}
            {inbox.items.length === 0 ? (
              !error && <p className="px-1 py-2 text-sm text-ink-400">{loading || !inbox.loaded ? "Loading…" : "No notifications yet."}</p>
            ) : (
              <ul className="flex flex-col gap-0.5" data-testid="inbox-list">
                {inbox.items.map((n) => (
                  <li key={n.id}>
                    <InboxEntry n={n} chat={chat} onPick={pick} />
                  </li>
                ))}
              </ul>
            )}
            {inbox.nextBefore && (
              <button
                type="button"
                onClick={() => void load(true)}
                disabled={loading}
                className="mt-1 w-full rounded-md border border-ink-600 px-2 py-1 text-xs text-ink-300 hover:bg-ink-700 disabled:opacity-60 focus-ring"
              >
                {loading ? "Loading…" : "Load more"}
              </button>
            )}
          </div>
        </div>
      )}
    </div>
  );
}

/** One notification: what and where, when; not yet read (its message is past the channel's read mark) in bold. */
function InboxEntry({ n, chat, onPick }: { n: ChatNotification; chat: ChatState; onPick: (n: ChatNotification) => void }) {
  const channel = n.channel ?? null;
  const place = channel ? channelLabel(chat.channels.find((c) => c.name === channel), channel, chat.me) : null;
  const seq = n.message?.seq;
  const unread = !!channel && typeof seq === "number" && seq > (chat.read[channel]?.seq ?? 0);
  const body = (
    <>
      <span className="flex items-baseline gap-2 text-xs text-ink-400">
        <span className={n.kind === "mention" ? "font-semibold text-gold" : "font-medium text-ink-300"}>{KIND_LABEL[n.kind] ?? n.kind}</span>
        {place && <span className="min-w-0 truncate">{place}</span>}
        <time dateTime={n.ts} title={formatDateTime(n.ts)} className="ml-auto shrink-0 tabular-nums">
          {formatAsOf(n.ts)}
        </time>
      </span>
      <span className={`line-clamp-3 break-words text-sm [overflow-wrap:anywhere] ${unread ? "font-semibold text-ink-100" : "text-ink-200"}`}>
        {unread && <span className="sr-only">Unread: </span>}
        {n.text}
      </span>
    </>
  );
  const cls = "flex w-full flex-col gap-0.5 rounded-lg px-2 py-1.5 text-left";
  return channel ? (
    <button type="button" onClick={() => onPick(n)} className={`${cls} hover:bg-ink-800 focus-ring`} data-testid="notification" data-kind={n.kind}>
      {body}
    </button>
  ) : (
    <div className={cls} data-testid="notification" data-kind={n.kind}>
      {body}
    </div>
  );
}

function BellIcon() {
  return (
    <svg viewBox="0 0 20 20" className="h-5 w-5" fill="currentColor" aria-hidden="true">
      <path d="M10 2a5 5 0 00-5 5v2.6c0 .6-.2 1.2-.6 1.7L3.2 13a1 1 0 00.8 1.6h12a1 1 0 00.8-1.6l-1.2-1.7c-.4-.5-.6-1.1-.6-1.7V7a5 5 0 00-5-5zm-2 14a2 2 0 104 0H8z" />
    </svg>
  );
}
