import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { channelLabel, splitChannels } from "../lib/access";
import { api } from "../lib/api";
import type { ChatState } from "../lib/chatState";
import {
  appendHits,
  MAX_PAGES,
  parseQuery,
  resolveChannel,
  revealMessage,
  termsOf,
  type JumpTarget,
  type SearchRequest,
  type Terms,
  type TimelineSource,
} from "../lib/search";
import type { Message } from "../lib/types";
import { SearchResults, type HitNote, type Opening, type SearchStatus } from "./SearchResults";

/** Hits a page. */
const PAGE = 20;

interface Props {
  chat: ChatState;
  /** The chat client: a hit's channel is paged back through it until the hit is loaded. */
  source: TimelineSource;
  /** Opens a channel (as the channel list does). */
  onSelect: (channel: string) => void;
  /** The hit is in its channel's timeline now: the list scrolls to it. */
  onJump: (target: JumpTarget) => void;
}

interface Search {
  asked: string;
  request: SearchRequest;
  terms: Terms;
}

const NO_TERMS: Terms = { words: new Set(), cashtags: new Set() };

/**
 * The search box above the chat ("/" or Ctrl+K from anywhere not being typed in) and its results
 * panel: GET /api/search, newest first, a page at a time; a hit opens its channel at that message.
 */
export function SearchBox({ chat, source, onSelect, onJump }: Props) {
  const [text, setText] = useState("");
  const [scope, setScope] = useState("");
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState<Search | null>(null);
  const [hits, setHits] = useState<Message[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [status, setStatus] = useState<SearchStatus>("ready");
  const [error, setError] = useState<string | null>(null);
  const [opening, setOpening] = useState<Opening>(null);
  const [note, setNote] = useState<HitNote | null>(null);
  /** Answers to an earlier ask than the latest are dropped. */
  const asks = useRef(0);
  /** The page that failed, for "Try again": undefined for the first. */
  const failedBefore = useRef<string | undefined>(undefined);
  const opener = useRef<AbortController | null>(null);
  const jumps = useRef(0);
  const input = useRef<HTMLInputElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const panelId = useId();
  const hintId = useId();
  const { rooms, dms } = useMemo(() => splitChannels(chat.channels), [chat.channels]);

  const stopOpening = useCallback(() => {
    opener.current?.abort();
    opener.current = null;
    setOpening(null);
  }, []);

  const close = useCallback(
    (refocus: boolean) => {
      stopOpening();
      setOpen(false);
      if (refocus) input.current?.focus();
    },
    [stopOpening],
  );

  // "/" (when not typing in a field) and Ctrl+K or ⌘K (which type nothing, so from anywhere) focus the box.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.defaultPrevented || e.altKey || e.isComposing) return;
      const combo = (e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "k";
      const slash = e.key === "/" && !e.ctrlKey && !e.metaKey && !typingIn(e.target);
      const el = input.current;
      // Not past a modal (the channel drawer) nor into a box made inert behind one.
      if ((!combo && !slash) || !el || el.closest("[inert]") || document.querySelector("[aria-modal=true]")) return;
      e.preventDefault();
      el.focus();
      el.select();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // A press outside the box and its panel closes the panel (focus stays where it went).
  useEffect(() => {
    if (!open) return;
    const onDown = (e: PointerEvent) => {
      if (!box.current?.contains(e.target as Node)) close(false);
    };
    document.addEventListener("pointerdown", onDown);
    return () => document.removeEventListener("pointerdown", onDown);
  }, [open, close]);

  // The reader went elsewhere: a hit still being paged to would pull them back.
  useEffect(() => () => opener.current?.abort(), []);

  async function fetchPage(s: Search, before?: string) {
    const ask = ++asks.current;
    setStatus(before ? "more" : "loading");
    setError(null);
    try {
      const page = await api.search({ ...s.request, before, limit: PAGE });
      if (ask !== asks.current) return;
      setHits((shown) => (before ? appendHits(shown, page.hits) : page.hits));
      setNext(page.next_before);
      setStatus("ready");
    } catch (e) {
      if (ask !== asks.current) return;
      failedBefore.current = before;
      setError(e instanceof Error ? e.message : "Search failed.");
      setStatus("error");
    }
  }

  function run(written: string, inChannel: string) {
    stopOpening();
    setNote(null);
    setOpen(true);
    const parsed = parseQuery(written);
    let channel = inChannel || undefined;
    let problem: string | null = null;
    if (parsed.in !== undefined) {
      channel = resolveChannel(parsed.in, chat);
      if (!channel) problem = parsed.in.startsWith("@") ? `You have no direct messages with ${parsed.in.slice(1)}.` : `You have no channel #${parsed.in}.`;
    }
    if (!problem && !parsed.q && !parsed.from && !channel) problem = "Type a word or a $TICKER to search for.";
    if (problem) {
      asks.current++;
      setSearch(null);
      setHits([]);
      setNext(null);
      setError(problem);
      setStatus("error");
      return;
    }
    const request: SearchRequest = { q: parsed.q };
    if (channel) request.channel = channel;
    if (parsed.from) request.user = parsed.from;
    const s = { asked: written.trim().replace(/\s+/g, " "), request, terms: termsOf(parsed.q) };
    setSearch(s);
    setHits([]);
    setNext(null);
    void fetchPage(s);
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    run(text, scope);
  }

  async function openHit(hit: Message) {
    opener.current?.abort();
    const stop = new AbortController();
    opener.current = stop;
    setNote(null);
    setOpening({ id: hit.id ?? "", page: 0 });
    onSelect(hit.channel);
    const found = await revealMessage(source, hit, { signal: stop.signal, onPage: (page) => setOpening({ id: hit.id ?? "", page }) });
    if (stop.signal.aborted) return;
    opener.current = null;
    setOpening(null);
    if (found.outcome === "found") {
      setOpen(false);
      onJump({ channel: hit.channel, id: found.id, thread: !!hit.reply_to, nonce: ++jumps.current });
      return;
    }
    const where = channelLabel(
      chat.channels.find((c) => c.name === hit.channel),
      hit.channel,
      chat.me,
    );
    setNote({
      id: hit.id ?? "",
      text:
        found.outcome === "too_far"
          ? `This message is more than ${MAX_PAGES} pages back in ${where}, too far to scroll to: here it is in full.`
          : found.outcome === "missing"
            ? `This message is no longer in ${where}; it may have been deleted.`
            : found.outcome === "failed"
              ? found.error
              : "",
    });
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key === "Escape" && open && !e.defaultPrevented) {
      e.preventDefault();
      e.stopPropagation();
      close(true);
    } else if (e.key === "ArrowDown" && e.target === input.current && open) {
      const first = box.current?.querySelector<HTMLElement>("[data-testid=search-hit]");
      if (first) {
        e.preventDefault();
        first.focus();
      }
    }
  }

  return (
    <div ref={box} className="relative border-b border-ink-700 bg-ink-900 px-3 py-1.5 sm:px-5" onKeyDown={onKeyDown}>
      <form role="search" aria-label="Messages" onSubmit={submit} className="flex items-center gap-2">
        <div className="relative min-w-0 flex-1">
          <svg viewBox="0 0 20 20" className="pointer-events-none absolute left-2 top-1/2 h-4 w-4 -translate-y-1/2 text-ink-400" fill="currentColor" aria-hidden="true">
            <path d="M8.5 3a5.5 5.5 0 014.38 8.82l3.65 3.65a1 1 0 01-1.41 1.41l-3.65-3.65A5.5 5.5 0 118.5 3zm0 2a3.5 3.5 0 100 7 3.5 3.5 0 000-7z" />
          </svg>
          <input
            ref={input}
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-label="Search messages"
            aria-describedby={hintId}
            aria-controls={open ? panelId : undefined}
            aria-keyshortcuts="/ Control+K"
            placeholder="Search messages"
            autoComplete="off"
            spellCheck={false}
            enterKeyHint="search"
            className="w-full rounded-md border border-ink-450 bg-ink-850 py-1 pl-8 pr-2 text-sm text-ink-100 placeholder:text-ink-400 focus-ring"
            data-testid="search-input"
          />
        </div>
        <select
          value={scope}
          onChange={(e) => {
            setScope(e.target.value);
            if (open && search) run(text, e.target.value);
          }}
          aria-label="Search in"
          className="hidden max-w-[10rem] rounded-md border border-ink-450 bg-ink-850 py-1 pl-2 pr-1 text-sm text-ink-200 focus-ring sm:block"
        >
          <option value="">All channels</option>
          {rooms.map((c) => (
            <option key={c.name} value={c.name}>
              #{c.name}
            </option>
          ))}
          {dms.length > 0 && (
            <optgroup label="Direct messages">
              {dms.map((c) => (
                <option key={c.name} value={c.name}>
                  {channelLabel(c, c.name, chat.me)}
                </option>
              ))}
            </optgroup>
          )}
        </select>
        <button type="submit" className="shrink-0 rounded-md bg-accent px-2.5 py-1 text-sm font-semibold text-ink-950 hover:bg-sky-300 focus-ring">
          Search
        </button>
      </form>
      <p id={hintId} className="sr-only">
        Press Enter to search. in:#channel or from:@name narrow it; a $TICKER finds its cashtag. Press / or Control+K to come back here.
      </p>
      {open && (
        <SearchResults
          id={panelId}
          asked={search?.asked ?? null}
          terms={search?.terms ?? NO_TERMS}
          hits={hits}
          more={next !== null}
          status={status}
          error={error}
          canRetry={search !== null}
          channels={chat.channels}
          me={chat.me}
          opening={opening}
          note={note}
          onOpen={(hit) => void openHit(hit)}
          onMore={() => search && next !== null && void fetchPage(search, next)}
          onRetry={() => search && void fetchPage(search, failedBefore.current)}
          onClose={() => close(true)}
        />
      )}
    </div>
  );
}

/** Whether a key pressed here types text (a text field, a text area, an editable element). */
function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !["button", "checkbox", "radio", "submit", "reset", "range", "color", "file"].includes(target.type);
}
