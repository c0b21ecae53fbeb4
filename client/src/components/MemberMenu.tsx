import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type CSSProperties, type KeyboardEvent } from "react";
import { api } from "../lib/api";
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

/** What is known of the person a menu moderates. */
export interface Standing {
  /** Their channel role; null for someone in a public channel without a member row (they only joined). */
  role: ChannelRole | null;
  muted: boolean;
}

interface MenuItem {
  label: string;
  action: MemberAction;
  danger?: boolean;
}

/**
 * The steps offered on one person. Someone without a member row cannot be removed (the server answers
 * not_a_member), but may be made a moderator, which adds them.
 */
export function memberMenuItems({ role, muted }: Standing, appoints: boolean): MenuItem[] {
  return [
    ...(muted ? [{ label: "Unmute", action: { kind: "unmute" } as const }] : MUTE_CHOICES.map((c) => ({ label: c.label, action: { kind: "mute", minutes: c.minutes } as const }))),
    ...(appoints
      ? [
          role === "moderator"
            ? { label: "Remove moderator", action: { kind: "role", role: "member" } as const }
            : { label: "Make moderator", action: { kind: "role", role: "moderator" } as const },
        ]
      : []),
    ...(role ? [{ label: "Remove from channel", action: { kind: "kick" } as const, danger: true }] : []),
    { label: "Ban", action: { kind: "ban" }, danger: true },
  ];
}

/** One step as the endpoint that carries it out and the sentence that says it was done. */
export function moderationStep(channel: string, username: string, a: MemberAction): { done: string; call: () => Promise<unknown> } {
  switch (a.kind) {
    case "mute":
      return { done: `${username} is muted.`, call: () => api.mute(channel, username, a.minutes) };
    case "unmute":
      return { done: `${username} is no longer muted.`, call: () => api.unmute(channel, username) };
    case "ban":
      return { done: `${username} is banned.`, call: () => api.ban(channel, username) };
    case "kick":
      return { done: `${username} was removed.`, call: () => api.removeMember(channel, username) };
    case "role":
      return {
        done: `${username} is now ${a.role === "moderator" ? "a moderator" : "a member"}.`,
        call: () => api.putMember(channel, username, a.role),
      };
  }
}

interface Props extends Standing {
  username: string;
  /** May make and unmake moderators (the owner, a site admin). */
  appoints: boolean;
  onAction: (action: MemberAction) => void;
}

/** A person's moderation menu: a button opening a menu of mute, unmute, role, kick and ban. */
export function MemberMenu({ username, role, muted, appoints, onAction }: Props) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const id = useId();
  const dismiss = useCallback(() => setOpen(false), []);

  function close() {
    setOpen(false);
    button.current?.focus();
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
        <ModerationMenu
          id={id}
          username={username}
          items={memberMenuItems({ role, muted }, appoints)}
          inside={button}
          onClose={close}
          onDismiss={dismiss}
          onAction={(a) => {
            close();
            onAction(a);
          }}
          className="absolute right-0 top-full mt-1"
        />
      )}
    </div>
  );
}

/**
 * The open menu itself: focus on its first item, arrow keys, Home and End move, Escape closes (onClose,
 * which puts focus back), Tab or a click elsewhere dismisses it; an item calls onAction only. `inside` is what a click may land on
 * without dismissing it (the button that toggles it).
 */
export function ModerationMenu({
  id,
  username,
  items,
  inside,
  onClose,
  onDismiss,
  onAction,
  className,
  style,
}: {
  id?: string;
  username: string;
  items: MenuItem[];
  inside?: { current: HTMLElement | null };
  onClose: () => void;
  onDismiss: () => void;
  onAction: (action: MemberAction) => void;
  className: string;
  style?: CSSProperties;
}) {
  const menu = useRef<HTMLUListElement>(null);

  // Once, on opening, before the menu is painted (so a key pressed at once lands in it): not again
  // whenever the owner redraws.
  useLayoutEffect(() => menu.current?.querySelector<HTMLElement>("[role=menuitem]")?.focus(), []);

  useEffect(() => {
    const onDown = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!menu.current?.contains(t) && !inside?.current?.contains(t)) onDismiss();
    };
    document.addEventListener("pointerdown", onDown);
    return () => document.removeEventListener("pointerdown", onDown);
  }, [inside, onDismiss]);

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
      onClose();
      return;
    } else if (e.key === "Tab") {
      onDismiss();
      return;
    }
    if (next === null) return;
    e.preventDefault();
    all[next]?.focus();
  }

  return (
    <ul
      ref={menu}
      id={id}
      role="menu"
      aria-label={`Moderate ${username}`}
      onKeyDown={onKeyDown}
      style={style}
      className={`${className} z-40 w-48 rounded-lg border border-ink-600 bg-ink-800 py-1 shadow-xl shadow-black/60`}
      data-testid="member-menu"
    >
      {items.map((it) => (
        <li key={it.label} role="none">
          <button
            type="button"
            role="menuitem"
            tabIndex={-1}
            onClick={() => onAction(it.action)}
            className={`block w-full px-3 py-1.5 text-left text-sm hover:bg-ink-700 focus:bg-ink-700 focus:outline-none ${
              it.danger ? "text-down" : "text-ink-200"
            }`}
          >
            {it.label}
          </button>
        </li>
      ))}
    </ul>
  );
}
