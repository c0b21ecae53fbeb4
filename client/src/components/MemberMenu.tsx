import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import type { ChannelRole } from "../lib/types";

/** A moderation step on one member, carried out by the members panel. */
export type MemberAction =
  | { kind: "mute"; minutes: number }
  | { kind: "unmute" }
  | { kind: "ban" }
  | { kind: "kick" }
  | { kind: "role"; role: ChannelRole };

export const MUTE_CHOICES: readonly { minutes: number; label: string }[] = [
  { minutes: 10, label: "Mute for 10 minutes" },
  { minutes: 60, label: "Mute for 1 hour" },
  { minutes: 1440, label: "Mute for 1 day" },
];

interface Props {
  username: string;
  role: ChannelRole;
  muted: boolean;
  /** May make and unmake moderators (the owner, a site admin). */
  appoints: boolean;
  onAction: (action: MemberAction) => void;
}

/** A member's moderation menu: a button opening a menu of mute, unmute, role, kick and ban. */
export function MemberMenu({ username, role, muted, appoints, onAction }: Props) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  const id = useId();

  const items: { label: string; action: MemberAction; danger?: boolean }[] = [
    ...(muted ? [{ label: "Unmute", action: { kind: "unmute" } as const }] : MUTE_CHOICES.map((c) => ({ label: c.label, action: { kind: "mute", minutes: c.minutes } as const }))),
    ...(appoints
      ? [
          role === "moderator"
            ? { label: "Remove moderator", action: { kind: "role", role: "member" } as const }
            : { label: "Make moderator", action: { kind: "role", role: "moderator" } as const },
        ]
      : []),
    { label: "Remove from channel", action: { kind: "kick" }, danger: true },
    { label: "Ban", action: { kind: "ban" }, danger: true },
  ];

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLElement>("[role=menuitem]")?.focus();
    const onDown = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!menu.current?.contains(t) && !button.current?.contains(t)) setOpen(false);
    };
    document.addEventListener("pointerdown", onDown);
    return () => document.removeEventListener("pointerdown", onDown);
  }, [open]);

  function close() {
    setOpen(false);
    button.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLUListElement>) {
    const all = [...(menu.current?.querySelectorAll<HTMLElement>("[role=menuitem]") ?? [])];
    const at = all.indexOf(document.activeElement as HTMLElement);
    let next: number | null = null;
    if (e.key === "ArrowDown") next = (at + 1) % all.length;
    else if (e.key === "ArrowUp") next = (at - 1 + all.length) % all.length;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = all.length - 1;
    else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
      return;
    } else if (e.key === "Tab") {
      setOpen(false);
      return;
    }
    if (next === null) return;
    e.preventDefault();
    all[next]?.focus();
  }

  return (
    <div className="relative ml-auto">
      <button
        ref={button}
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        aria-label={`Moderate ${username}`}
        className="rounded px-1.5 text-ink-300 hover:bg-ink-700 hover:text-ink-100 focus-ring"
        data-testid="member-menu-button"
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open && (
        <ul
          ref={menu}
          id={id}
          role="menu"
          aria-label={`Moderate ${username}`}
          onKeyDown={onKeyDown}
          className="absolute right-0 top-full z-40 mt-1 w-48 rounded-lg border border-ink-600 bg-ink-800 py-1 shadow-xl shadow-black/60"
          data-testid="member-menu"
        >
          {items.map((it) => (
            <li key={it.label} role="none">
              <button
                type="button"
                role="menuitem"
                tabIndex={-1}
                onClick={() => {
                  close();
                  onAction(it.action);
                }}
                className={`block w-full px-3 py-1.5 text-left text-sm hover:bg-ink-700 focus:bg-ink-700 focus:outline-none ${
                  it.danger ? "text-down" : "text-ink-200"
                }`}
              >
                {it.label}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
