import { useEffect, useId, useRef, useState, type FormEvent, type RefObject } from "react";
import { channelLabel, dmPeer, isAdmin, isCompliance, isPrivate, splitChannels } from "../lib/access";
import { ApiError } from "../lib/api";
import type { ChatClient } from "../lib/chatClient";
import type { ChatState } from "../lib/chatState";
import { unreadFor } from "../lib/readMarks";
import type { Channel } from "../lib/types";
import { unreadBadge } from "../lib/unread";
import { Avatar } from "./Avatar";
import { NewDirectMessage } from "./DirectMessages";
import { GearIcon, LockIcon, PersonMark } from "./icons";
import { Logo } from "./Logo";
import { NotificationInbox } from "./NotificationInbox";
import { NotificationSettings } from "./NotificationSettings";

interface Props {
  client: ChatClient;
  chat: ChatState;
  onSelect: (name: string) => void;
  onLogout: () => void;
  /** Site admins and compliance: open the admin page. */
  onOpenAdmin?: () => void;
  autoFocus?: boolean;
  onClose?: () => void;
}

export function Sidebar({ client, chat, onSelect, onLogout, onOpenAdmin, autoFocus, onClose }: Props) {
  const currentRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (autoFocus) currentRef.current?.focus();
  }, [autoFocus]);
  const currentState = chat.current ? chat.byChannel[chat.current] : undefined;
  const members = currentState?.members ?? [];
  const { rooms, dms } = splitChannels(chat.channels);
  const currentChannel = chat.channels.find((c) => c.name === chat.current);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const settingsButton = useRef<HTMLButtonElement>(null);

  return (
    <aside className="flex h-full w-full flex-col border-r border-ink-700 bg-ink-850" aria-label="Sidebar">
      <div className="relative flex items-center gap-2.5 border-b border-ink-700 px-4 py-3">
        <Logo />
        <span className="font-semibold tracking-tight">investor-chat</span>
        <div className="ml-auto flex items-center gap-0.5">
          <NotificationInbox client={client} chat={chat} onSelect={onSelect} onOpenSettings={() => setSettingsOpen(true)} />
          <button
            ref={settingsButton}
            type="button"
            onClick={() => setSettingsOpen(true)}
            aria-haspopup="dialog"
            className="rounded-md p-1.5 text-ink-300 hover:bg-ink-700 hover:text-ink-100 focus-ring"
            aria-label="Notification settings"
          >
            <GearIcon className="h-5 w-5" />
          </button>
          {onClose && (
            <button type="button" onClick={onClose} className="rounded-md p-1.5 text-ink-300 hover:bg-ink-700 focus-ring" aria-label="Close channel list">
              <svg viewBox="0 0 20 20" className="h-5 w-5" fill="currentColor" aria-hidden="true">
                <path d="M5.3 5.3a1 1 0 011.4 0L10 8.6l3.3-3.3a1 1 0 111.4 1.4L11.4 10l3.3 3.3a1 1 0 01-1.4 1.4L10 11.4l-3.3 3.3a1 1 0 01-1.4-1.4L8.6 10 5.3 6.7a1 1 0 010-1.4z" />
              </svg>
            </button>
          )}
        </div>
        {settingsOpen && (
          <NotificationSettings
            channels={chat.channels}
            me={chat.me}
            onClose={() => {
              setSettingsOpen(false);
              settingsButton.current?.focus();
            }}
          />
        )}
      </div>

      <nav className="min-h-0 flex-1 overflow-y-auto px-2 py-3" aria-label="Channels">
        <h2 className="px-2 pb-1.5 text-xs font-semibold uppercase tracking-wider text-ink-400">Channels</h2>
        <ul className="space-y-0.5" data-testid="channel-list">
          {rooms.map((c) => (
            <li key={c.name}>
              <ChannelButton chat={chat} channel={c} onSelect={onSelect} currentRef={currentRef} />
            </li>
          ))}
        </ul>
        <CreateChannel client={client} onCreated={onSelect} />

        <h2 className="mt-6 px-2 pb-1.5 text-xs font-semibold uppercase tracking-wider text-ink-400">Direct messages</h2>
        <ul className="space-y-0.5" data-testid="dm-list">
          {dms.map((c) => (
            <li key={c.name}>
              <ChannelButton chat={chat} channel={c} onSelect={onSelect} currentRef={currentRef} />
            </li>
          ))}
        </ul>
        <NewDirectMessage client={client} me={chat.me} onOpened={onSelect} />

        {chat.current && (
          <section className="mt-6" aria-label={`Online in ${channelLabel(currentChannel, chat.current, chat.me)}`}>
            <h2 className="px-2 pb-1.5 text-xs font-semibold uppercase tracking-wider text-ink-400">
              Online {currentState?.joined && <span className="text-ink-400 tabular-nums">· {members.length}</span>}
            </h2>
            {!currentState?.joined && <p className="px-2 text-xs text-ink-400">Unknown while disconnected</p>}
            <ul className="space-y-0.5" data-testid="members">
              {members.map((m) => (
                <li key={m} className="flex items-center gap-2 px-2 py-1 text-sm text-ink-200">
                  <span className="h-2 w-2 rounded-full bg-up shadow-[0_0_6px_var(--color-up)]" aria-hidden="true" />
                  <span className="truncate">{m}</span>
                  {m.toLowerCase() === chat.me.toLowerCase() && <span className="text-xs text-ink-400">(you)</span>}
                </li>
              ))}
            </ul>
          </section>
        )}
      </nav>

      <div className="flex items-center gap-2.5 border-t border-ink-700 px-3 py-3">
        <Avatar name={chat.me} size="h-8 w-8" />
        <div className="min-w-0 flex-1">
          <div className="truncate text-sm font-medium" data-testid="me">
            {chat.me}
          </div>
          <div className="text-xs text-ink-400">Signed in</div>
        </div>
        {onOpenAdmin && (isAdmin(chat.roles) || isCompliance(chat.roles)) && (
          <button
            type="button"
            onClick={onOpenAdmin}
            className="rounded-md border border-ink-600 px-2.5 py-1 text-sm text-ink-200 hover:border-ink-500 hover:bg-ink-700 focus-ring"
          >
            Admin
          </button>
        )}
        <button
          type="button"
          onClick={onLogout}
          className="rounded-md border border-ink-600 px-2.5 py-1 text-sm text-ink-200 hover:border-ink-500 hover:bg-ink-700 focus-ring"
        >
          Log out
        </button>
      </div>
    </aside>
  );
}

/** One entry of the channel list or the DM list: "#name" (a lock for a private one) or the DM's other person. */
function ChannelButton({
  chat,
  channel: c,
  onSelect,
  currentRef,
}: {
  chat: ChatState;
  channel: Channel;
  onSelect: (name: string) => void;
  currentRef: RefObject<HTMLButtonElement | null>;
}) {
  const active = c.name === chat.current;
  const { count, mentions } = unreadFor(chat, c.name);
  const badge = unreadBadge(count);
  const mentionBadge = unreadBadge(mentions);
  const dm = c.kind === "dm";
  const peer = dm ? dmPeer(c, chat.me) : "";
  return (
    <button
      ref={active ? currentRef : undefined}
      type="button"
      onClick={() => onSelect(c.name)}
      aria-current={active ? "page" : undefined}
      data-channel={c.name}
      className={`group flex w-full items-center gap-2 rounded-md px-2 py-1.5 text-left text-[15px] transition focus-ring ${
        active
          ? "bg-accent/15 text-ink-100 shadow-[inset_2px_0_0_var(--color-accent)]"
          : badge
            ? "font-semibold text-ink-100 hover:bg-ink-700"
            : "text-ink-300 hover:bg-ink-700 hover:text-ink-100"
      }`}
    >
      {dm ? (
        <PersonMark name={peer} />
      ) : isPrivate(c) ? (
        <LockIcon className={`h-3.5 w-3.5 ${active ? "text-accent" : "text-ink-400"}`} />
      ) : (
        <span className={active ? "text-accent" : "text-ink-400"} aria-hidden="true">
          #
        </span>
      )}
      <span className="min-w-0 flex-1 truncate">{dm ? peer : c.name}</span>
      {mentionBadge && (
        <span className="rounded-full bg-gold px-1.5 py-px text-xs font-bold text-ink-950 tabular-nums" data-testid="mention-badge">
          <span aria-hidden="true">@</span>
          {mentionBadge}
          <span className="sr-only"> {mentions === 1 ? "mention" : "mentions"}</span>
        </span>
      )}
      {badge && (
        <span className="rounded-full bg-accent px-1.5 py-px text-xs font-bold text-ink-950 tabular-nums" data-testid="unread">
          {badge}
          <span className="sr-only"> unread</span>
        </span>
      )}
    </button>
  );
}

function CreateChannel({ client, onCreated }: { client: ChatClient; onCreated: (name: string) => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [priv, setPriv] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const cancelled = useRef(false);
  const id = useId();

  // Into the field on opening; back to the button on cancelling, not lost to the page (a
  // created channel opens, and its message box takes the focus).
  useEffect(() => {
    if (open) inputRef.current?.focus();
    else if (cancelled.current) openerRef.current?.focus();
    cancelled.current = false;
  }, [open]);

  function cancel() {
    cancelled.current = true;
    setOpen(false);
    setError(null);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const ch = await client.createChannel(name.trim().toLowerCase(), priv ? "private" : "public");
      setName("");
      setPriv(false);
      setOpen(false);
      onCreated(ch.name);
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : "Could not create the channel.");
      inputRef.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  if (!open) {
    return (
      <button
        ref={openerRef}
        type="button"
        onClick={() => setOpen(true)}
        className="mt-1 flex w-full items-center gap-2 rounded-md px-2 py-1.5 text-left text-sm text-ink-400 hover:bg-ink-700 hover:text-ink-100 focus-ring"
      >
        <span aria-hidden="true" className="text-base leading-none">
          +
        </span>
        New channel
      </button>
    );
  }
  return (
    <form
      onSubmit={(e) => void submit(e)}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          cancel();
        }
      }}
      className="mt-2 px-2"
      noValidate
    >
      <label htmlFor={`${id}-name`} className="mb-1 block text-xs font-medium text-ink-300">
        New channel name
      </label>
      <div className="flex gap-1.5">
        <input
          ref={inputRef}
          id={`${id}-name`}
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="e.g. earnings"
          autoCapitalize="none"
          spellCheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-err` : undefined}
          className={`min-w-0 flex-1 rounded-md border bg-ink-950 px-2 py-1.5 text-sm focus-ring ${error ? "border-down" : "border-ink-450"}`}
        />
        <button
          type="submit"
          disabled={busy || !name.trim()}
          className="rounded-md bg-accent px-2.5 py-1.5 text-sm font-semibold text-ink-950 disabled:opacity-50 focus-ring"
        >
          Create
        </button>
      </div>
      {error && (
        <p id={`${id}-err`} role="alert" className="mt-1 text-xs text-down">
          {error}
        </p>
      )}
      <div className="mt-1.5 flex items-center gap-1.5">
        <input
          id={`${id}-private`}
          type="checkbox"
          checked={priv}
          onChange={(e) => setPriv(e.target.checked)}
          aria-describedby={`${id}-private-hint`}
          className="h-3.5 w-3.5 accent-accent focus-ring"
        />
        <label htmlFor={`${id}-private`} className="text-xs text-ink-200">
          Private channel
        </label>
      </div>
      <p id={`${id}-private-hint`} className="text-xs text-ink-400">
        {priv ? "Only the members you add can see it." : "Anyone can find and join it."}
      </p>
      <button
        type="button"
        onClick={cancel}
        className="mt-1 text-xs text-ink-400 underline-offset-2 hover:underline focus-ring"
      >
        Cancel
      </button>
    </form>
  );
}
