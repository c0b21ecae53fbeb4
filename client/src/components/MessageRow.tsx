import { memo, useEffect, useId, useRef, useState, type FocusEvent, type KeyboardEvent, type ReactNode, type RefObject } from "react";
import type { ActionResult } from "../lib/chatClient";
import { formatDateTime, formatTime } from "../lib/format";
import type { TimelineItem } from "../lib/messages";
import { REACTIONS, reactionWord } from "../lib/reactions";
import type { Reaction } from "../lib/types";
import { Avatar } from "./Avatar";
import { useMessageActions } from "./messageActions";
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

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export const MessageRow = memo(function MessageRow({ item, me, compact, inThread = false }: Props) {
  const actions = useMessageActions();
  const mine = same(item.user, me);
  const time = formatTime(item.ts);
  const full = formatDateTime(item.ts);
  // A several-code reply carries `quotes`; older replies only `quote`.
  const quotes = item.deleted ? [] : item.quotes?.length ? item.quotes : item.quote ? [item.quote] : [];
  // Cashtags are chips in what people write; bot replies and local echoes stay plain text.
  const chips = !item.bot && !item.local && item.text.includes("$");

  // Stored, not deleted, and there is someone to act through: the row has actions.
  const actionable = !!actions && !!item.id && item.seq !== undefined && !item.ephemeral && !item.deleted;
  const canEdit = actionable && mine && !item.bot;
  const canDelete = actionable && ((mine && !item.bot) || !!actions?.isOwner);
  const canPin = actionable && !!actions?.isOwner;
  const canReply = actionable && !inThread && !item.reply_to;

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

  const reactions = item.deleted ? [] : (item.reactions ?? []).filter((r) => r.count > 0);
  const replies = item.reply_count ?? 0;
  const label = `${item.user}, ${full}`;

  return (
    <div
      ref={rowRef}
      className={`group relative flex gap-3 px-3 sm:px-5 ${compact ? "py-0.5" : "pt-2.5 pb-0.5"} ${
        item.ephemeral
          ? "bg-gold/[0.04] shadow-[inset_2px_0_0_rgba(245,181,68,0.6)]"
          : item.pinned && !item.deleted
            ? "bg-gold/[0.03] shadow-[inset_2px_0_0_rgba(245,181,68,0.45)]"
            : mine
              ? "bg-accent/[0.04] shadow-[inset_2px_0_0_rgba(56,189,248,0.55)]"
              : ""
      } hover:bg-ink-800/60 focus-visible:bg-ink-800/60 outline-none focus-visible:ring-1 focus-visible:ring-inset focus-visible:ring-accent/60`}
      data-testid="message"
      data-seq={item.seq ?? ""}
      data-id={item.id ?? ""}
      data-mine={mine ? "true" : "false"}
      data-ephemeral={item.ephemeral ? "true" : "false"}
      data-deleted={item.deleted ? "true" : "false"}
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
        {item.deleted ? (
          <p className="text-[15px] italic leading-6 text-ink-400" data-testid="tombstone">
            This message was deleted
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
            {item.local ? item.text : <MessageText text={item.text} chips={chips} stamps={item.stamps} />}
            {item.edited_at && <Edited at={item.edited_at} />}
          </p>
        )}
        {item.pinned && !item.deleted && (
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

interface ToolbarProps {
  canEdit: boolean;
  canDelete: boolean;
  canPin: boolean;
  canReply: boolean;
  pinned: boolean;
  picking: boolean;
  reactButton: RefObject<HTMLButtonElement | null>;
  onReact: () => void;
  onReply: () => void;
  onEdit: () => void;
  onDelete: () => void;
  onPin: () => void;
}

/** Left and Right arrows move between a group's buttons (Tab still works). */
function arrowKeys(e: KeyboardEvent<HTMLDivElement>) {
  if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
  const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>("button")];
  const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
  if (i < 0) return;
  e.preventDefault();
  buttons[(i + (e.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length]!.focus();
}

/** The row's actions: shown on hover and while focus is in the row; arrow keys move along it. */
function Toolbar(p: ToolbarProps) {
  return (
    <div
      role="toolbar"
      aria-label="Message actions"
      // Inside the list's live log: appearing on hover is not news to announce.
      aria-live="off"
      onKeyDown={arrowKeys}
      className="absolute -top-3 right-3 z-10 flex items-center gap-0.5 rounded-lg border border-ink-600 bg-ink-850 p-0.5 shadow-lg shadow-black/40"
      data-testid="message-toolbar"
    >
      <ToolButton label="React" onClick={p.onReact} buttonRef={p.reactButton} expanded={p.picking}>
        <path d="M10 18a8 8 0 100-16 8 8 0 000 16zM7 8.5a1 1 0 100-2 1 1 0 000 2zm6 0a1 1 0 100-2 1 1 0 000 2zm-6.2 3a.75.75 0 011.05.15 2.7 2.7 0 004.3 0 .75.75 0 111.2.9 4.2 4.2 0 01-6.7 0 .75.75 0 01.15-1.05z" />
      </ToolButton>
      {p.canReply && (
        <ToolButton label="Reply" onClick={p.onReply}>
          <path d="M8 5V2L2 8l6 6v-3.1c4.3 0 7.3 1.4 9.5 4.6C16.6 11 13.9 6.4 8 5z" />
        </ToolButton>
      )}
      {p.canEdit && (
        <ToolButton label="Edit" onClick={p.onEdit}>
          <path d="M13.6 2.6a2 2 0 012.8 0l1 1a2 2 0 010 2.8L8 15.8 3.5 17l1.2-4.5 8.9-9.9z" />
        </ToolButton>
      )}
      {p.canPin && (
        <ToolButton label={p.pinned ? "Unpin" : "Pin"} onClick={p.onPin}>
          <path d="M12.5 2.5l5 5-2 .5-3 3 .5 4-1.5 1.5-3.5-3.5L4 17l-1-1 4-4-3.5-3.5L5 7l4 .5 3-3 .5-2z" />
        </ToolButton>
      )}
      {p.canDelete && (
        <ToolButton label="Delete" onClick={p.onDelete} danger>
          <path d="M8 2h4a1 1 0 011 1v1h4v2H3V4h4V3a1 1 0 011-1zM4.5 7h11l-.8 10a1 1 0 01-1 1H6.3a1 1 0 01-1-1L4.5 7z" />
        </ToolButton>
      )}
    </div>
  );
}

function ToolButton({
  label,
  onClick,
  children,
  buttonRef,
  expanded,
  danger = false,
}: {
  label: string;
  onClick: () => void;
  children: ReactNode;
  buttonRef?: RefObject<HTMLButtonElement | null>;
  expanded?: boolean;
  danger?: boolean;
}) {
  return (
    <button
      ref={buttonRef}
      type="button"
      aria-label={label}
      title={label}
      aria-expanded={expanded}
      onClick={onClick}
      className={`grid h-7 w-7 place-items-center rounded-md text-ink-300 hover:bg-ink-700 ${danger ? "hover:text-down" : "hover:text-ink-100"} focus-ring`}
    >
      <svg viewBox="0 0 20 20" className="h-4 w-4" fill="currentColor" aria-hidden="true">
        {children}
      </svg>
    </button>
  );
}

/** Edit in place: Enter saves, Shift+Enter a new line, Escape cancels; the server's refusal shows here. */
function EditBox({
  initial,
  onSave,
  onSaved,
  onCancel,
  error,
}: {
  initial: string;
  onSave: (text: string) => Promise<boolean>;
  onSaved: () => void;
  onCancel: () => void;
  error: string | null;
}) {
  const [text, setText] = useState(initial);
  const [saving, setSaving] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  const id = useId();

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  async function save() {
    if (saving) return;
    setSaving(true);
    const ok = await onSave(text);
    setSaving(false);
    if (ok) onSaved();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void save();
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onCancel();
    }
  }

  return (
    <div className="mt-1" data-testid="edit-box" aria-live="off">
      <label htmlFor={`${id}-text`} className="sr-only">
        Edit message
      </label>
      <textarea
        ref={ref}
        id={`${id}-text`}
        value={text}
        rows={1}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-err` : `${id}-hint`}
        className="block max-h-[200px] min-h-[2.25rem] w-full resize-none [field-sizing:content] rounded-lg border border-ink-450 bg-ink-850 px-2.5 py-1.5 text-[15px] leading-6 text-ink-100 outline-none focus:border-accent/70 focus:ring-1 focus:ring-accent/40"
      />
      <div className="mt-1 flex flex-wrap items-center gap-2 text-xs">
        <button
          type="button"
          onClick={() => void save()}
          aria-disabled={saving}
          className="rounded-md bg-accent px-2.5 py-1 font-semibold text-ink-950 aria-disabled:opacity-60 focus-ring"
        >
          Save
        </button>
        <button type="button" onClick={onCancel} className="rounded-md border border-ink-600 px-2.5 py-1 text-ink-200 hover:bg-ink-700 focus-ring">
          Cancel
        </button>
        {error ? (
          <p id={`${id}-err`} role="alert" className="text-down" data-testid="edit-error">
            {error}
          </p>
        ) : (
          <p id={`${id}-hint`} className="text-ink-400">
            Enter to save · Escape to cancel
          </p>
        )}
      </div>
    </div>
  );
}

function ConfirmDelete({ busy, onConfirm, onCancel }: { busy: boolean; onConfirm: () => Promise<void>; onCancel: () => void }) {
  const confirm = useRef<HTMLButtonElement>(null);
  const id = useId();
  useEffect(() => confirm.current?.focus(), []);
  return (
    <div
      role="alertdialog"
      aria-label="Delete message"
      aria-describedby={id}
      className="mt-1 flex flex-wrap items-center gap-2 rounded-lg border border-down/40 bg-down/10 px-2.5 py-1.5 text-sm"
    >
      <p id={id} className="text-ink-100">
        Delete this message for everyone?
      </p>
      <button
        ref={confirm}
        type="button"
        onClick={() => void onConfirm()}
        aria-disabled={busy}
        className="rounded-md bg-down px-2.5 py-0.5 font-semibold text-ink-950 aria-disabled:opacity-60 focus-ring"
      >
        Yes, delete
      </button>
      <button type="button" onClick={onCancel} className="rounded-md border border-ink-600 px-2.5 py-0.5 text-ink-200 hover:bg-ink-700 focus-ring">
        Cancel
      </button>
    </div>
  );
}

const reactedBy = (r: Reaction, me: string) => r.users.some((u) => same(u, me));

function ReactionPicker({ reactions, me, onPick }: { reactions: Reaction[]; me: string; onPick: (emoji: string, mine: boolean) => void }) {
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  const mineSet = new Set(reactions.filter((r) => reactedBy(r, me)).map((r) => r.emoji));
  return (
    <div
      role="group"
      aria-label="Pick a reaction"
      aria-live="off"
      onKeyDown={arrowKeys}
      className="mt-1 flex max-w-md flex-wrap gap-0.5 rounded-lg border border-ink-600 bg-ink-850 p-1"
      data-testid="reaction-picker"
    >
      {REACTIONS.map((emoji, i) => {
        const word = reactionWord(emoji);
        return (
          <button
            key={emoji}
            ref={i === 0 ? first : undefined}
            type="button"
            aria-label={`Add reaction ${emoji}`}
            aria-pressed={mineSet.has(emoji)}
            title={word ? `${emoji} ${word}` : emoji}
            onClick={() => onPick(emoji, mineSet.has(emoji))}
            className="grid h-8 w-8 place-items-center rounded-md text-lg hover:bg-ink-700 aria-pressed:bg-accent/20 focus-ring"
          >
            {emoji}
          </button>
        );
      })}
    </div>
  );
}

function ReactionChips({
  reactions,
  me,
  disabled,
  onToggle,
}: {
  reactions: Reaction[];
  me: string;
  disabled: boolean;
  onToggle: (emoji: string, mine: boolean) => void;
}) {
  return (
    <div className="mt-1 flex flex-wrap gap-1" data-testid="reactions">
      {reactions.map((r) => {
        const on = reactedBy(r, me);
        const word = reactionWord(r.emoji);
        return (
          <button
            key={r.emoji}
            type="button"
            aria-pressed={on}
            disabled={disabled}
            title={`${r.users.join(", ")}${word ? ` (${word})` : ""}`}
            onClick={() => onToggle(r.emoji, on)}
            className={`inline-flex h-6 items-center gap-1 rounded-full border px-2 text-xs tabular-nums focus-ring ${
              on ? "border-accent/70 bg-accent/15 text-ink-100" : "border-ink-600 bg-ink-800 text-ink-200 hover:border-ink-450"
            } disabled:cursor-default`}
          >
            {r.emoji} {r.count}
          </button>
        );
      })}
    </div>
  );
}

