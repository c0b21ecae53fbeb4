import { useMemo, type KeyboardEvent } from "react";
import { channelLabel, isDm, isPrivate } from "../lib/access";
import { dayLabel, formatDateTime, formatTime } from "../lib/format";
import { markMatches, type Terms } from "../lib/search";
import type { Channel, Message } from "../lib/types";
import { LockIcon } from "./icons";

/** `loading`: the first page is on its way; `more`: a later one. */
export type SearchStatus = "loading" | "more" | "ready" | "error";

/** The hit being opened in its channel, and how many older pages have been asked for so far. */
export type Opening = { id: string; page: number } | null;

/** Why a hit could not be shown in its channel, said under it. */
export interface HitNote {
  id: string;
  text: string;
}

interface Props {
  id: string;
  /** The search as the reader wrote it ("rates in:#desk"); null before any. */
  asked: string | null;
  terms: Terms;
  hits: Message[];
  more: boolean;
  status: SearchStatus;
  error: string | null;
  canRetry: boolean;
  channels: Channel[];
  me: string;
  opening: Opening;
  note: HitNote | null;
  onOpen: (hit: Message) => void;
  onMore: () => void;
  onRetry: () => void;
  onClose: () => void;
}

/**
 * The search's answers under the search box, newest first: each hit a button (channel, author,
 * time, and its text with the matched words marked, as text) that opens it in its channel. Up and
 * Down move between hits.
 */
export function SearchResults(props: Props) {
  const { id, asked, terms, hits, more, status, error, canRetry, channels, me, opening, note, onOpen, onMore, onRetry, onClose } = props;
  const byName = useMemo(() => new Map(channels.map((c) => [c.name, c])), [channels]);
  const openingHit = opening ? hits.find((h) => h.id === opening.id) : undefined;

  let said = "";
  if (openingHit) {
    const where = channelLabel(byName.get(openingHit.channel), openingHit.channel, me);
    said = opening!.page ? `Finding the message in ${where}: older messages, page ${opening!.page}…` : `Opening ${where}…`;
  } else if (status === "loading") said = "Searching…";
  else if (status === "more") said = "Loading more results…";
  else if (asked !== null && status === "ready")
    said = hits.length
      ? `${hits.length} message${hits.length === 1 ? "" : "s"}${more ? ", more to load" : ""}, newest first`
      : `No messages match ${asked}.`;

  return (
    <section
      id={id}
      aria-label="Search results"
      className="absolute inset-x-2 top-full z-30 mt-1 flex max-h-[min(70vh,36rem)] flex-col overflow-hidden rounded-xl border border-ink-600 bg-ink-850 shadow-2xl shadow-black/60 sm:left-auto sm:right-5 sm:w-[36rem]"
      data-testid="search-results"
    >
      <div className="flex items-center gap-2 border-b border-ink-700 px-3 py-2">
        <h2 className="min-w-0 truncate text-sm font-semibold">{asked ? `Search: ${asked}` : "Search"}</h2>
        <button
          type="button"
          onClick={onClose}
          className="ml-auto rounded px-1.5 text-sm text-ink-300 hover:bg-ink-700 focus-ring"
          aria-label="Close search results"
        >
          ✕
        </button>
      </div>
      <div className="min-h-0 overflow-y-auto p-2" aria-busy={status === "loading" || status === "more" || !!openingHit}>
        <p role="status" className="px-1 pb-1 text-xs text-ink-300" data-testid="search-status">
          {said}
        </p>
        {error && (
          <div role="alert" className="flex items-center gap-2 px-1 py-1 text-sm text-down" data-testid="search-error">
            <span className="min-w-0 flex-1">{error}</span>
            {canRetry && (
              <button type="button" onClick={onRetry} className="shrink-0 rounded-md border border-ink-450 px-2 py-0.5 text-xs text-ink-100 hover:bg-ink-700 focus-ring">
                Try again
              </button>
            )}
          </div>
        )}
        {asked !== null && status === "ready" && !hits.length && (
          <p className="px-1 pb-2 text-xs text-ink-400">Words match whole words of a message, all of them; try fewer, or another spelling.</p>
        )}
        {hits.length > 0 && (
          <ul className="flex flex-col gap-1" aria-label="Messages found" onKeyDown={moveBetweenHits}>
            {hits.map((hit) => (
              <li key={hit.id ?? `${hit.channel}:${hit.seq}`}>
                <Hit
                  hit={hit}
                  terms={terms}
                  channel={byName.get(hit.channel)}
                  me={me}
                  busy={opening?.id === hit.id}
                  full={note?.id === hit.id}
                  onOpen={onOpen}
                />
                {note && note.id === hit.id && (
                  <p role="alert" className="px-2 pb-1 text-xs text-gold" data-testid="search-hit-note">
                    {note.text}
                  </p>
                )}
              </li>
            ))}
          </ul>
        )}
        {more && hits.length > 0 && (
          <div className="px-1 pt-2 text-center">
            <button
              type="button"
              onClick={onMore}
              disabled={status === "more"}
              className="rounded-full border border-ink-450 px-3 py-1 text-xs text-ink-200 hover:bg-ink-700 disabled:opacity-60 focus-ring"
            >
              {status === "more" ? "Loading more…" : "Load more results"}
            </button>
          </div>
        )}
      </div>
      <p className="border-t border-ink-700 px-3 py-1.5 text-xs text-ink-400">
        Narrow it with <code className="text-ink-200">in:#channel</code>, <code className="text-ink-200">from:@name</code>; a{" "}
        <code className="text-ink-200">$TICKER</code> finds its cashtag.
      </p>
    </section>
  );
}

function Hit({
  hit,
  terms,
  channel,
  me,
  busy,
  full,
  onOpen,
}: {
  hit: Message;
  terms: Terms;
  channel: Channel | undefined;
  me: string;
  busy: boolean;
  full: boolean;
  onOpen: (hit: Message) => void;
}) {
  const stretches = useMemo(() => markMatches(hit.text, terms), [hit.text, terms]);
  return (
    <button
      type="button"
      onClick={() => onOpen(hit)}
      aria-busy={busy}
      className="block w-full rounded-lg px-2 py-1.5 text-left hover:bg-ink-800 aria-busy:bg-ink-800 focus-ring"
      data-testid="search-hit"
      data-id={hit.id ?? ""}
      data-channel={hit.channel}
    >
      <span className="flex flex-wrap items-baseline gap-x-2 text-xs text-ink-300">
        <span className="inline-flex items-center gap-1 text-ink-200" data-testid="search-hit-channel">
          {/* As in the channel list: a lock stands in for a private channel's "#". */}
          {isPrivate(channel) && !isDm(channel) ? (
            <>
              <LockIcon className="h-3 w-3" />
              {hit.channel}
            </>
          ) : (
            channelLabel(channel, hit.channel, me)
          )}
        </span>
        <span className="text-sm font-semibold text-ink-100">{hit.user}</span>
        <time dateTime={hit.ts} title={formatDateTime(hit.ts)}>
          {dayLabel(hit.ts)}, {formatTime(hit.ts)}
        </time>
        {hit.reply_to && <span className="text-ink-400">in a thread</span>}
        {busy && <span className="text-accent">opening…</span>}
      </span>
      <span
        className={`block whitespace-pre-wrap break-words text-sm text-ink-200 [overflow-wrap:anywhere] ${full ? "" : "line-clamp-3"}`}
        data-testid="search-hit-text"
      >
        {stretches.map((s, i) =>
          s.hit ? (
            <mark key={i} className="rounded-sm bg-gold/25 px-px text-ink-100">
              {s.text}
            </mark>
          ) : (
            s.text
          ),
        )}
      </span>
    </button>
  );
}

/** Up and Down (and Home, End) move focus between the hits' buttons. */
function moveBetweenHits(e: KeyboardEvent<HTMLUListElement>) {
  const keys = ["ArrowDown", "ArrowUp", "Home", "End"];
  if (!keys.includes(e.key)) return;
  const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>("[data-testid=search-hit]")];
  const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
  if (at < 0) return;
  const to = e.key === "Home" ? 0 : e.key === "End" ? buttons.length - 1 : Math.min(buttons.length - 1, Math.max(0, at + (e.key === "ArrowDown" ? 1 : -1)));
  e.preventDefault();
  buttons[to]?.focus();
}
