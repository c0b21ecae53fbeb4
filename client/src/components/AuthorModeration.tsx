import { useCallback, useEffect, useRef, useState, type CSSProperties, type KeyboardEvent } from "react";
import { api } from "../lib/api";
import { sameUser } from "../lib/ids";
import { memberMenuItems, moderationStep, ModerationMenu, type MemberAction, type Standing } from "./MemberMenu";

/** Where a message's author was picked: the toolbar button's box, and the row to give focus back to. */
export interface AuthorPick {
  username: string;
  at: DOMRect;
  row: HTMLElement | null;
}

interface Props {
  channel: string;
  pick: AuthorPick;
  /** May make and unmake moderators (the owner, a site admin). */
  appoints: boolean;
  onClose: () => void;
}

type Shown = { kind: "loading" } | { kind: "said"; text: string; failed: boolean };
type Phase = Shown | { kind: "menu"; standing: Standing };

/** Below the button, or above it when the menu would run off the bottom of the window. */
function placeBy(at: DOMRect): CSSProperties {
  const right = Math.max(8, window.innerWidth - at.right);
  return at.bottom + 260 > window.innerHeight ? { position: "fixed", right, bottom: window.innerHeight - at.top + 4 } : { position: "fixed", right, top: at.bottom + 4 };
}

/**
 * The moderation menu of a message's author, opened from the message's toolbar: one for the whole
 * list, so rows carry nothing for it. It reads the author's standing (member row, mute) when it opens,
 * offers the members panel's steps, then says how the step went.
 */
export function AuthorModeration({ channel, pick, appoints, onClose }: Props) {
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  const { username } = pick;
  const style = placeBy(pick.at);

  useEffect(() => {
    let stale = false;
    Promise.all([api.members(channel), api.moderation(channel)]).then(
      ([m, mod]) => {
        if (stale) return;
        const role = m.members.find((x) => sameUser(x.username, username))?.role ?? null;
        if (role === "owner") setPhase({ kind: "said", text: `${username} owns the channel: owners are not moderated.`, failed: false });
        else setPhase({ kind: "menu", standing: { role, muted: mod.muted.some((x) => sameUser(x.username, username)) } });
      },
      (e: unknown) => {
        if (!stale) setPhase({ kind: "said", text: e instanceof Error ? e.message : "Could not load the members.", failed: true });
      },
    );
    return () => {
      stale = true;
    };
  }, [channel, username]);

  const close = useCallback(() => {
    onClose();
    pick.row?.focus();
  }, [onClose, pick.row]);

  async function act(a: MemberAction) {
    const step = moderationStep(channel, username, a);
    setPhase({ kind: "loading" });
    try {
      await step.call();
      setPhase({ kind: "said", text: step.done, failed: false });
    } catch (e) {
      setPhase({ kind: "said", text: e instanceof Error ? e.message : "That did not work.", failed: true });
    }
  }

  if (phase.kind === "menu")
    return (
      <ModerationMenu
        username={username}
        items={memberMenuItems(phase.standing, appoints)}
        onClose={close}
        onDismiss={onClose}
        onAction={(a) => void act(a)}
        className=""
        style={style}
      />
    );
  return <Said phase={phase} style={style} onClose={close} />;
}

/** Loading, or how it went: closed by its button, Escape or a click elsewhere. */
function Said({ phase, style, onClose }: { phase: Shown; style: CSSProperties; onClose: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  const shut = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (phase.kind === "loading") return;
    shut.current?.focus();
    const onDown = (e: PointerEvent) => {
      if (!box.current?.contains(e.target as Node)) onClose();
    };
    document.addEventListener("pointerdown", onDown);
    return () => document.removeEventListener("pointerdown", onDown);
  }, [phase.kind, onClose]);

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key !== "Escape") return;
    e.preventDefault();
    e.stopPropagation();
    onClose();
  }

  return (
    <div
      ref={box}
      style={style}
      onKeyDown={onKeyDown}
      className="z-40 flex w-64 items-start gap-2 rounded-lg border border-ink-600 bg-ink-800 px-3 py-2 text-sm shadow-xl shadow-black/60"
      data-testid="author-moderation"
    >
      {phase.kind === "loading" ? (
        <p role="status" className="text-ink-300">
          Loading…
        </p>
      ) : (
        <>
          <p role={phase.failed ? "alert" : "status"} className={phase.failed ? "text-down" : "text-ink-100"}>
            {phase.text}
          </p>
          <button ref={shut} type="button" onClick={onClose} className="ml-auto rounded px-1.5 text-ink-300 hover:bg-ink-700 focus-ring" aria-label="Close">
            ✕
          </button>
        </>
      )}
    </div>
  );
}
