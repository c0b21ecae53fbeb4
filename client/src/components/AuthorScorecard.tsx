/** An author's name that opens their trade-idea record: the scorecard and their last ideas with how each ended. */
import { useEffect, useState, type CSSProperties, type ReactNode } from "react";
import { createPortal } from "react-dom";
import { api } from "../lib/api";
import { formatPercent } from "../lib/format";
import { SIDE_LABEL, statusLabel } from "../lib/ideas";
import type { Idea, UserIdeas } from "../lib/types";
import { usePopover } from "./popover";

/** How many of the author's ideas the popover lists, newest first. */
export const RECENT_IDEAS = 5;

type Load = { kind: "loading" } | { kind: "failed"; message: string } | { kind: "done"; data: UserIdeas };

/** Under the name, or above it when the card would run off the bottom of the window. */
function placeBy(el: HTMLElement | null): CSSProperties {
  const at = el?.getBoundingClientRect();
  if (!at) return { position: "fixed", left: 8, top: 8 };
  const left = Math.max(8, Math.min(at.left, window.innerWidth - 328));
  return at.bottom + 300 > window.innerHeight
    ? { position: "fixed", left, bottom: window.innerHeight - at.top + 4 }
    : { position: "fixed", left, top: at.bottom + 4 };
}

export function AuthorName({ username, className, children }: { username: string; className?: string; children?: ReactNode }) {
  const { open, setOpen, close, buttonProps, panelProps } = usePopover();
  const [style, setStyle] = useState<CSSProperties>({});

  return (
    <>
      <button
        {...buttonProps}
        type="button"
        onClick={() => {
          setStyle(placeBy(buttonProps.ref.current));
          setOpen(!open);
        }}
        className={`rounded hover:underline focus-ring ${className ?? ""}`}
        title={`${username}'s trade ideas`}
        data-testid="author"
      >
        {children ?? username}
      </button>
      {open &&
        createPortal(
          <div
            {...panelProps}
            aria-label={`${username}'s trade ideas`}
            style={style}
            className="z-50 flex w-[min(92vw,20rem)] flex-col gap-2 rounded-xl border border-ink-600 bg-ink-850 p-3 text-sm shadow-2xl shadow-black/60 outline-none"
            data-testid="scorecard"
          >
            <div className="flex items-center gap-2">
              <h2 className="min-w-0 truncate font-semibold text-ink-100">{username}</h2>
              <span className="text-xs text-ink-400">Trade ideas</span>
              <button type="button" onClick={close} className="ml-auto rounded px-1.5 text-ink-300 hover:bg-ink-700 focus-ring" aria-label="Close">
                ✕
              </button>
            </div>
            <Record username={username} />
          </div>,
          document.body,
        )}
    </>
  );
}

/** Read when shown: a caller's record moves as their ideas close. */
function Record({ username }: { username: string }) {
  const [load, setLoad] = useState<Load>({ kind: "loading" });
  useEffect(() => {
    let gone = false;
    api.userIdeas(username).then(
      (data) => !gone && setLoad({ kind: "done", data }),
      (e: unknown) => !gone && setLoad({ kind: "failed", message: e instanceof Error ? e.message : "Could not load the ideas." }),
    );
    return () => {
      gone = true;
    };
  }, [username]);

  if (load.kind === "loading") return <p role="status" className="text-ink-300">Loading…</p>;
  if (load.kind === "failed")
    return (
      <p role="alert" className="text-down">
        {load.message}
      </p>
    );
  const { scorecard, ideas } = load.data;
  const recent = [...ideas].sort((a, b) => (a.opened_at < b.opened_at ? 1 : a.opened_at > b.opened_at ? -1 : 0)).slice(0, RECENT_IDEAS);
  return (
    <>
      <dl className="flex justify-between gap-2 rounded-lg bg-ink-900/60 px-2.5 py-1.5 text-center" data-testid="scorecard-figures">
        <Figure label="Ideas" value={String(scorecard.ideas)} />
        <Figure label="Closed" value={String(scorecard.closed)} />
        <Figure label="Hit rate" value={hitRate(scorecard.hit_rate)} />
        <Figure label="Avg return" value={scorecard.avg_return_pct == null ? "—" : formatPercent(scorecard.avg_return_pct)} />
      </dl>
      {recent.length === 0 ? (
        <p className="text-ink-400">No trade ideas yet.</p>
      ) : (
        <ul className="flex flex-col gap-1" aria-label="Latest ideas" data-testid="scorecard-ideas">
          {recent.map((i) => (
            <IdeaLine key={i.id} idea={i} />
          ))}
        </ul>
      )}
    </>
  );
}

const percentFormat = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });

/** A fraction of closed ideas, not money: a float is fine. */
function hitRate(rate: number | null): string {
  return rate == null ? "—" : percentFormat.format(rate);
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <div className="flex flex-col">
      <dt className="whitespace-nowrap text-[10px] uppercase tracking-wide text-ink-400">{label}</dt>
      <dd className="font-mono text-sm font-semibold tabular-nums text-ink-100">{value}</dd>
    </div>
  );
}

function IdeaLine({ idea }: { idea: Idea }) {
  const outcome = statusLabel(idea.status);
  const ret = idea.return_pct;
  const tone = ret == null ? "text-ink-300" : ret.startsWith("-") ? "text-down" : /[1-9]/.test(ret) ? "text-up" : "text-ink-300";
  return (
    <li className="flex items-baseline gap-2 text-xs" data-testid="scorecard-idea" data-status={idea.status}>
      <span className={`w-10 shrink-0 font-semibold ${idea.side === "long" ? "text-up" : "text-down"}`}>{SIDE_LABEL[idea.side]}</span>
      <span className="min-w-0 truncate font-mono text-ink-100">{idea.symbol}</span>
      <span className="ml-auto shrink-0 text-ink-300">{outcome}</span>
      {ret != null && <span className={`w-14 shrink-0 text-right font-mono tabular-nums ${tone}`}>{formatPercent(ret)}</span>}
    </li>
  );
}
