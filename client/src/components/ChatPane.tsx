import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { canAppoint, canModerate, channelLabel, isDm, isPrivate, slowModeExempt } from "../lib/access";
import type { ChatClient, ConnState } from "../lib/chatClient";
import { formatDuration } from "../lib/format";
import { emptyChannel } from "../lib/channelState";
import { typingIn, typingText, type ChatState } from "../lib/chatState";
import { sameUser } from "../lib/ids";
import type { TimelineItem } from "../lib/messages";
import type { JumpTarget } from "../lib/search";
import { AuthorModeration, type AuthorPick } from "./AuthorModeration";
import { ChannelSettingsButton } from "./ChannelSettings";
import { Composer } from "./Composer";
import { LockIcon, PersonMark } from "./icons";
import { MembersButton } from "./MembersPanel";
import { MessageActionsContext, type MessageActions } from "./messageActions";
import { MessageList } from "./MessageList";
import { PinsButton } from "./PinsButton";
import { ThreadPanel } from "./ThreadPanel";

interface Props {
  client: ChatClient;
  chat: ChatState;
  channel: string;
  conn: ConnState;
  onOpenSidebar: () => void;
  /** A search hit to show in this channel (MessageList scrolls to it). */
  jumpTo?: JumpTarget | null;
  onJumped?: () => void;
}

export function ChatPane({ client, chat, channel, conn, onOpenSidebar, jumpTo, onJumped }: Props) {
  const st = chat.byChannel[channel] ?? emptyChannel();
  const me = chat.me;
  const info = chat.channels.find((c) => c.name === channel);
  const dm = isDm(info);
  const place = channelLabel(info, channel, me);
  // The join says; until it has, the creator is the owner.
  const role = st.role ?? (info && sameUser(info.created_by, me) ? "owner" : null);
  // Nobody moderates a DM.
  const moderates = !dm && canModerate(role, chat.roles);
  const appoints = canAppoint(role, chat.roles);
  const topic = info?.topic ?? "";
  const slowModeS = info?.slow_mode_s ?? 0;
  const [threadId, setThreadId] = useState<string | null>(null);
  const narrow = useNarrow();
  const threadOpener = useRef<HTMLElement | null>(null);
  // The message author whose moderation menu is open: one menu for the pane, none per row.
  const [authorPick, setAuthorPick] = useState<(AuthorPick & { channel: string }) | null>(null);
  const closeAuthor = useCallback(() => setAuthorPick(null), []);
  const moderateAuthor = useCallback(
    (username: string, from: HTMLElement) =>
      setAuthorPick({ channel, username, at: from.getBoundingClientRect(), row: from.closest<HTMLElement>("[data-testid=message]") }),
    [channel],
  );

  const openThread = useCallback((root: TimelineItem) => {
    if (!root.id) return;
    // Focus comes back here on close: the row itself when it was its hover toolbar's Reply (gone by then).
    const active = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    threadOpener.current = active?.closest<HTMLElement>("[role=toolbar]") ? active.closest<HTMLElement>("[data-testid=message]") : active;
    setThreadId(root.id);
  }, []);

  const closeThread = useCallback(() => {
    setThreadId(null);
    // Back to what opened it; if that row has scrolled away (the list is windowed), the message box.
    const opener = threadOpener.current;
    threadOpener.current = null;
    window.setTimeout(() => {
      if (opener?.isConnected) opener.focus();
      else document.getElementById("composer")?.focus();
    }, 0);
  }, []);

  // A hit that was a reply: its root is scrolled to, with the thread open beside it.
  const jumped = useCallback(
    (target: JumpTarget) => {
      if (target.thread) setThreadId(target.id);
      onJumped?.();
    },
    [onJumped],
  );

  const actions = useMemo<MessageActions>(
    () => ({
      moderates,
      edit: (id, text) => client.edit(channel, id, text),
      remove: (id) => client.remove(channel, id),
      toggleReaction: (id, emoji, mine) => (mine ? client.unreact(channel, id, emoji) : client.react(channel, id, emoji)),
      setPinned: (id, pinned) => (pinned ? client.pin(channel, id) : client.unpin(channel, id)),
      openThread,
      moderateAuthor: moderates ? moderateAuthor : undefined,
    }),
    [client, channel, moderates, openThread, moderateAuthor],
  );

  return (
    <MessageActionsContext.Provider value={actions}>
      <div className="flex min-h-0 min-w-0 flex-1">
        {/* On a narrow screen the thread covers the channel: what is behind it cannot be reached. */}
        <section className="flex min-h-0 min-w-0 flex-1 flex-col" aria-labelledby="channel-title" inert={!!threadId && narrow}>
          <header className="flex items-center gap-2 border-b border-ink-700 bg-ink-900/95 px-3 py-2.5 sm:px-5">
            <button
              type="button"
              onClick={onOpenSidebar}
              className="relative -ml-1 rounded-md p-1.5 text-ink-300 hover:bg-ink-700 md:hidden focus-ring"
              aria-label={
                chat.inbox.unseen ? `Open channel list, ${chat.inbox.unseen} new notification${chat.inbox.unseen === 1 ? "" : "s"}` : "Open channel list"
              }
            >
              <svg viewBox="0 0 20 20" className="h-5 w-5" fill="currentColor" aria-hidden="true">
                <path d="M3 5h14a1 1 0 100-2H3a1 1 0 000 2zm14 4H3a1 1 0 000 2h14a1 1 0 100-2zm0 6H3a1 1 0 000 2h14a1 1 0 100-2z" />
              </svg>
              {/* On a phone the bell is in the drawer: a dot here says something waits in it. */}
              {chat.inbox.unseen > 0 && <span className="absolute right-0.5 top-0.5 h-2 w-2 rounded-full bg-down" aria-hidden="true" />}
            </button>
            <h1 id="channel-title" className="flex min-w-0 shrink-0 items-center gap-1.5 truncate text-lg font-semibold">
              {dm && info ? (
                <>
                  <PersonMark name={place.slice(1)} className="h-6 w-6 text-xs" />
                  {place.slice(1)}
                </>
              ) : (
                <>
                  {isPrivate(info) ? (
                    <LockIcon className="h-4 w-4 text-ink-400" />
                  ) : (
                    <span className="text-ink-400" aria-hidden="true">
                      #
                    </span>
                  )}
                  {channel}
                </>
              )}
            </h1>
            {topic && (
              <p className="hidden min-w-0 truncate border-l border-ink-600 pl-2 text-sm text-ink-300 sm:block" title={topic} data-testid="channel-topic">
                {topic}
              </p>
            )}
            {slowModeS > 0 && (
              <span className="hidden shrink-0 rounded bg-gold/10 px-1.5 py-px text-xs text-gold sm:inline" data-testid="slow-mode-badge">
                Slow mode · {formatDuration(slowModeS)}
              </span>
            )}
            <span className="ml-auto" />
            {!dm && (
              <MembersButton
                channel={channel}
                place={place}
                me={me}
                moderates={moderates}
                appoints={appoints}
                privateChannel={isPrivate(info)}
                rosterRev={st.rosterRev}
                present={st.members}
              />
            )}
            {moderates && <ChannelSettingsButton client={client} channel={channel} place={place} topic={topic} slowModeS={slowModeS} />}
            <PinsButton client={client} channel={channel} pins={st.pins} moderates={moderates} />
            <span className="flex items-center gap-1.5 text-sm text-ink-400" title={st.members.join(", ")} data-testid="online-count">
              <span className={`h-2 w-2 rounded-full ${st.joined ? "bg-up" : "bg-ink-500"}`} aria-hidden="true" />
              {st.joined ? (
                <>
                  <span className="tabular-nums">{st.members.length}</span> online
                </>
              ) : (
                "not connected"
              )}
            </span>
          </header>

          <MessageList client={client} channel={channel} state={st} me={chat.me} jumpTo={jumpTo} onJumped={jumped} newAfter={chat.newAfter} />
          {authorPick?.channel === channel && moderates && <AuthorModeration key={authorPick.username} channel={channel} pick={authorPick} appoints={appoints} onClose={closeAuthor} />}

          <TypingLine chat={chat} channel={channel} />
          <Composer
            client={client}
            channel={channel}
            online={conn === "connected"}
            place={place}
            label={`Message ${place}`}
            mutedUntil={st.mutedUntil}
            slowModeS={slowModeS}
            slowExempt={slowModeExempt(role, chat.roles)}
          />
        </section>
        {threadId && (
          <ThreadPanel
            key={threadId}
            client={client}
            channel={channel}
            rootId={threadId}
            state={st}
            me={me}
            online={conn === "connected"}
            place={place}
            slowModeS={slowModeS}
            slowExempt={slowModeExempt(role, chat.roles)}
            onClose={closeThread}
          />
        )}
      </div>
    </MessageActionsContext.Provider>
  );
}

const NARROW = "(max-width: 767.98px)";

/** Below Tailwind's `md`, where the thread panel takes the whole width. */
function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => typeof window.matchMedia === "function" && window.matchMedia(NARROW).matches);
  useEffect(() => {
    if (typeof window.matchMedia !== "function") return;
    const mq = window.matchMedia(NARROW);
    const on = () => setNarrow(mq.matches);
    mq.addEventListener("change", on);
    return () => mq.removeEventListener("change", on);
  }, []);
  return narrow;
}

/** Who is typing: its own once-a-second clock, so the tick redraws this line and not the messages. */
function TypingLine({ chat, channel }: { chat: ChatState; channel: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, []);
  const typing = typingText(typingIn(chat, channel, now));
  return (
    <div className="h-6 px-5 text-xs text-ink-400" aria-live="polite" data-testid="typing">
      {typing && (
        <span className="inline-flex items-center gap-1.5">
          <span className="inline-flex gap-0.5" aria-hidden="true">
            <span className="h-1 w-1 animate-bounce rounded-full bg-ink-400 [animation-delay:-0.3s]" />
            <span className="h-1 w-1 animate-bounce rounded-full bg-ink-400 [animation-delay:-0.15s]" />
            <span className="h-1 w-1 animate-bounce rounded-full bg-ink-400" />
          </span>
          {typing}
        </span>
      )}
    </div>
  );
}
