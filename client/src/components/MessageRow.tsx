import { memo, useId, useRef, useState, type FocusEvent, type KeyboardEvent } from "react";
import type { ActionResult } from "../lib/chatClient";
import { formatDateTime, formatTime } from "../lib/format";
import type { TimelineItem } from "../lib/messages";
import { sameUser } from "../lib/ids";
import { mentionsMe } from "../lib/mentions";
import { AuthorName } from "./AuthorScorecard";
import { Avatar } from "./Avatar";
import { IdeaCard } from "./IdeaCard";
import { useMessageActions } from "./messageActions";
import { ConfirmDelete, EditBox, ReactionChips, ReactionPicker, Toolbar } from "./MessageTools";
import { MessageText } from "./MessageText";
import { QuoteCard } from "./QuoteCard";

interface Props {
  item: TimelineItem;
  me: string;
  compact: boolean;
  /** Shown in a thread panel: no Reply, no reply count. */
  inThread?: boolean;
}

type Mode = "idle" | "editing" | "confirm-delete" | "picking";


export const MessageRow = memo(function MessageRow({ item, me, compact, inThread = false }: Props) {
  const actions = useMessageActions();
  const mine = sameUser(item.user, me);
  // Someone else's message that names me, @here or @channel: the row stands out.
  const forMe = mentionsMe(item, me);
  // Deleted, or its content removed under the retention policy: a tombstone in its place.
  const gone = !!item.deleted || !!item.redacted;
  const time = formatTime(item.ts);
  const full = formatDateTime(item.ts);
  // A several-code reply carries `quotes`; older replies only `quote`.
  const quotes = gone ? [] : item.quotes?.length ? item.quotes : item.quote ? [item.quote] : [];
  // Cashtags are chips in what people write; bot replies and local echoes stay plain text.
  const chips = !item.bot && !item.local && item.text.includes("$");

  // Stored, not a tombstone, and there is someone to act through: the row has actions.
  const actionable = !!actions && !!item.id && item.seq !== undefined && !item.ephemeral && !gone;
  const canEdit = actionable && mine && !item.bot;
  const canDelete = actionable && ((mine && !item.bot) || !!actions?.moderates);
  const canPin = actionable && !!actions?.moderates;
  const canReply = actionable && !inThread && !item.reply_to;
  const moderateAuthor = actionable && !mine && !item.bot ? actions?.moderateAuthor : undefined;

  const [mode, setMode] = useState<Mode>("idle");
  const [hover, setHover] = useState(false);
  const [focusIn, setFocusIn] = useState(false);
  const [dismissed, setDismissed] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const rowRef = useRef<HTMLDivElement>(null);
  const reactButton = useRef<HTMLButtonElement>(null);
  const errId = useId();

  // A message deleted (here or elsewhere) while being edited or confirmed: nothing left to do.
  const liveMode: Mode = actionable ? mode : "idle";
  const showToolbar = actionable && (hover || focusIn) && !dismissed && (liveMode === "idle" || liveMode === "picking");

  async function run(fn: () => Promise<ActionResult>): Promise<boolean> {
    if (busy) return false;
    setBusy(true);
    setError(null);
    const res = await fn();
    setBusy(false);
    if (!res.ok) setError(res.error.message || res.error.code);
    return res.ok;
  }

  function onBlur(e: FocusEvent<HTMLDivElement>) {
    if (!e.currentTarget.contains(e.relatedTarget)) {
      setFocusIn(false);
      setDismissed(false);
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key !== "Escape" || e.defaultPrevented) return;
    // Escape closes what is open, one thing at a time, and leaves focus on the row.
    if (liveMode === "picking") {
      setMode("idle");
      reactButton.current?.focus();
    } else if (liveMode === "confirm-delete") {
      setMode("idle");
      rowRef.current?.focus();
    } else if (showToolbar) {
      setDismissed(true);
      rowRef.current?.focus();
    } else return;
    e.preventDefault();
    e.stopPropagation();
  }

  const reactions = gone ? [] : (item.reactions ?? []).filter((r) => r.count > 0);
  const replies = item.reply_count ?? 0;
  const label = `${item.user}, ${full}`;

  return (
    <div
      ref={rowRef}
      className={`group relative flex gap-3 px-3 sm:px-5 ${compact ? "py-0.5" : "pt-2.5 pb-0.5"} ${
        item.ephemeral
          ? "bg-gold/[0.04] shadow-[inset_2px_0_0_rgba(245,181,68,0.6)]"
          : forMe
            ? "bg-gold/[0.09] shadow-[inset_3px_0_0_var(--color-gold)]"
            : item.pinned && !gone
            ? "bg-gold/[0.03] shadow-[inset_2px_0_0_rgba(245,181,68,0.45)]"
            : mine
              ? "bg-accent/[0.04] shadow-[inset_2px_0_0_rgba(56,189,248,0.55)]"
              : ""
      } hover:bg-ink-800/60 focus-visible:bg-ink-800/60 outline-none focus-visible:ring-1 focus-visible:ring-inset focus-visible:ring-accent/60`}
      data-testid="message"
      data-seq={item.seq ?? ""}
      data-id={item.id ?? ""}
      data-mine={mine ? "true" : "false"}
      data-mentions-me={forMe ? "true" : "false"}
      data-ephemeral={item.ephemeral ? "true" : "false"}
      data-deleted={item.deleted ? "true" : "false"}
      data-redacted={item.redacted ? "true" : "false"}
      {...(actionable
        ? {
            role: "group",
            "aria-label": label,
            tabIndex: 0,
            onMouseEnter: () => {
              setHover(true);
              setDismissed(false);
            },
            // Also on a move: a row that slides under a still pointer (the one above it shrank)
            // gets no mouseenter, but the next move over it shows its toolbar.
            onMouseMove: () => {
              if (!hover) setHover(true);
            },
            onMouseLeave: () => setHover(false),
            onFocus: () => setFocusIn(true),
            onBlur,
            onKeyDown,
          }
        : {})}
    >
      {showToolbar && actions && (
        <Toolbar
          canEdit={canEdit}
          canDelete={canDelete}
          canPin={canPin}
          canReply={canReply}
          pinned={!!item.pinned}
          picking={liveMode === "picking"}
          reactButton={reactButton}
          onReact={() => setMode(liveMode === "picking" ? "idle" : "picking")}
          onReply={() => actions.openThread(item)}
          onEdit={() => {
            setError(null);
            setMode("editing");
          }}
          onDelete={() => {
            setError(null);
            setMode("confirm-delete");
          }}
          onPin={() => void run(() => actions.setPinned(item.id!, !item.pinned))}
          moderate={moderateAuthor && { author: item.user, open: (from) => moderateAuthor(item.user, from) }}
        />
      )}
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
            {item.bot || item.local || gone ? (
              <span className={`font-semibold ${item.bot ? "text-up" : "text-accent"}`} data-testid="author">
                {item.user}
              </span>
            ) : (
              // A person's name opens their trade-idea record (a tombstone and the echo of one's own command have no actions).
              <AuthorName username={item.user} className={`font-semibold ${mine ? "text-accent" : "text-ink-100"}`} />
            )}
            {item.bot && (
              <span className="rounded bg-up/15 px-1 py-px text-[10px] font-bold uppercase tracking-wide text-up">Bot</span>
            )}
            {mine && !item.bot && <span className="text-xs text-ink-400">you</span>}
            <time dateTime={item.ts} title={full} className="text-xs text-ink-400 tabular-nums">
              {time}
            </time>
          </div>
        )}
        {gone ? (
          <p className="text-[15px] italic leading-6 text-ink-400" data-testid="tombstone">
            {item.deleted ? "This message was deleted" : "Removed under the retention policy"}
          </p>
        ) : liveMode === "editing" && actions ? (
          <EditBox
            initial={item.text}
            onCancel={() => {
              setMode("idle");
              setError(null);
              rowRef.current?.focus();
            }}
            onSave={async (text) => {
              if (text === item.text) return true;
              return run(() => actions.edit(item.id!, text));
            }}
            onSaved={() => {
              setMode("idle");
              rowRef.current?.focus();
            }}
            error={error}
          />
        ) : item.idea ? (
          <div className="mt-1">
            <IdeaCard idea={item.idea} />
          </div>
        ) : quotes.length > 0 ? (
          <div className="mt-1">
            <p className="mb-1.5 text-[15px] leading-6 text-ink-200 whitespace-pre-wrap break-words" data-testid="message-text">
              {item.text}
              {item.edited_at && <Edited at={item.edited_at} />}
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
            {item.local ? item.text : <MessageText text={item.text} chips={chips} stamps={item.stamps} mentions={item.mentions} me={me} />}
            {item.edited_at && <Edited at={item.edited_at} />}
          </p>
        )}
        {item.pinned && !gone && (
          <p className="mt-0.5 text-xs text-gold/90" data-testid="pinned-note">
            <span aria-hidden="true">📌 </span>Pinned
          </p>
        )}
        {liveMode === "confirm-delete" && actions && (
          <ConfirmDelete
            busy={busy}
            onCancel={() => {
              setMode("idle");
              rowRef.current?.focus();
            }}
            onConfirm={async () => {
              if (await run(() => actions.remove(item.id!))) {
                setMode("idle");
                rowRef.current?.focus();
              }
            }}
          />
        )}
        {liveMode === "picking" && actions && (
          <ReactionPicker
            reactions={reactions}
            me={me}
            onPick={(emoji, on) => {
              setMode("idle");
              reactButton.current?.focus();
              void run(() => actions.toggleReaction(item.id!, emoji, on));
            }}
          />
        )}
        {reactions.length > 0 && (
          <ReactionChips
            reactions={reactions}
            me={me}
            disabled={!actionable}
            onToggle={(emoji, on) => actions && void run(() => actions.toggleReaction(item.id!, emoji, on))}
          />
        )}
        {!inThread && !item.reply_to && replies > 0 && actions && item.id && (
          <button
            type="button"
            onClick={() => actions.openThread(item)}
            className="mt-1 rounded px-1 -ml-1 text-xs font-semibold text-accent hover:underline focus-ring"
            data-testid="reply-count"
          >
            {replies} {replies === 1 ? "reply" : "replies"}
          </button>
        )}
        {error && liveMode !== "editing" && (
          <p id={errId} role="alert" className="mt-0.5 text-xs text-down" data-testid="action-error">
            {error}
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

function Edited({ at }: { at: string }) {
  return (
    <span className="ml-1 text-xs text-ink-400" title={`Edited ${formatDateTime(at)}`} data-testid="edited">
      (edited)
    </span>
  );
}
