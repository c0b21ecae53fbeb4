/** The widgets a message row's actions use: its toolbar, the editor, the delete confirmation, the
 * reaction picker and the reaction chips. The row (MessageRow.tsx) holds their state. */
import { useEffect, useId, useRef, useState, type KeyboardEvent, type MouseEvent, type ReactNode, type RefObject } from "react";
import { REACTIONS, reactionWord } from "../lib/reactions";
import { sameUser } from "../lib/ids";
import type { Reaction } from "../lib/types";


export interface ToolbarProps {
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
  /** The author, and opening their moderation menu from the button pressed: for moderators, on others' messages. */
  moderate?: { author: string; open: (from: HTMLElement) => void };
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
export function Toolbar(p: ToolbarProps) {
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
      {p.moderate && (
        <ToolButton label={`Moderate ${p.moderate.author}`} onClick={(e) => p.moderate!.open(e.currentTarget)} popup>
          <path d="M10 1.5l7 2.5v5c0 4.3-2.9 8-7 9.5-4.1-1.5-7-5.2-7-9.5V4l7-2.5zm0 2.1L5 5.4V9c0 3.2 2 6 5 7.4V3.6z" />
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
  popup = false,
}: {
  label: string;
  onClick: (e: MouseEvent<HTMLButtonElement>) => void;
  children: ReactNode;
  buttonRef?: RefObject<HTMLButtonElement | null>;
  expanded?: boolean;
  danger?: boolean;
  /** Opens a menu. */
  popup?: boolean;
}) {
  return (
    <button
      ref={buttonRef}
      type="button"
      aria-label={label}
      title={label}
      aria-expanded={expanded}
      aria-haspopup={popup ? "menu" : undefined}
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
export function EditBox({
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

export function ConfirmDelete({ busy, onConfirm, onCancel }: { busy: boolean; onConfirm: () => Promise<void>; onCancel: () => void }) {
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

const reactedBy = (r: Reaction, me: string) => r.users.some((u) => sameUser(u, me));

export function ReactionPicker({ reactions, me, onPick }: { reactions: Reaction[]; me: string; onPick: (emoji: string, mine: boolean) => void }) {
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

export function ReactionChips({
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

