import { memo, useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import type { ChatClient } from "../lib/chatClient";
import { cashtagSymbols } from "../lib/cashtags";
import { formatAsOf, formatCountdown, remainingChars } from "../lib/format";
import { newClientId } from "../lib/ids";
import { quoteStore } from "./CashtagChip";

const LIMIT = 2000;
const SHOW_COUNT_BELOW = 200;
const DRAFT_PAUSE_MS = 500;
const GROWS_BY_ITSELF = typeof CSS !== "undefined" && CSS.supports("field-sizing", "content");

interface Props {
  client: ChatClient;
  channel: string;
  online: boolean;
  /** A thread's composer: sends with `reply_to` this root id. */
  replyTo?: string;
  /** The textarea's id (the skip link targets the channel's, "composer"). */
  inputId?: string;
  /** Its label; "Message #channel" by default. */
  label?: string;
  /** Take focus when shown (a thread panel opening), whatever has it. */
  focusOnMount?: boolean;
  /** How the channel reads in notices: "#name" by default, "@bob" for a DM. */
  place?: string;
  /** The signed-in user's mute here ends then (ISO 8601); sending waits for it. */
  mutedUntil?: string | null;
  /** The channel's slow mode, seconds between one's messages; 0 is off. */
  slowModeS?: number;
  /** Slow mode does not apply (the channel's owner or a moderator). */
  slowExempt?: boolean;
}

/** Longest wait one timer is asked for (setTimeout's limit is about 24 days); a longer one is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

// Memoized: a busy channel's messages must not redraw the box someone is typing in.
export const Composer = memo(function Composer({
  client,
  channel,
  online,
  replyTo,
  inputId = "composer",
  label,
  focusOnMount = false,
  place = `#${channel}`,
  mutedUntil = null,
  slowModeS = 0,
  slowExempt = false,
}: Props) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  // One id per draft: resending the same draft after a timeout cannot post it twice.
  const clientId = useRef(newClientId());
  const id = useId();

  // Sending waits while muted or slowed; the box stays writable, and the text is kept.
  const mutedEnd = mutedUntil ? Date.parse(mutedUntil) || 0 : 0;
  const [slowEnd, setSlowEnd] = useState(0);
  // Redrawn when a wait ends, not every second: only the countdown's own text ticks.
  const [clock, setClock] = useState(() => Date.now());
  const muted = mutedEnd > clock;
  const slowed = slowEnd > clock;

  useEffect(() => {
    const end = Math.max(mutedEnd, slowEnd);
    if (end <= clock) return;
    const t = window.setTimeout(() => setClock(Date.now()), Math.min(Math.max(0, end - Date.now()) + 50, MAX_TIMER_MS));
    return () => window.clearTimeout(t);
  }, [mutedEnd, slowEnd, clock]);

  const left = remainingChars(text, LIMIT);
  const tooLong = left < 0;
  const empty = text.trim() === "";
  const blocked = muted || slowed;

  // Ready to type when the channel opens or the connection returns, unless focus is elsewhere.
  useEffect(() => {
    const active = document.activeElement;
    if (online && (!active || active === document.body)) ref.current?.focus();
  }, [online]);

  useEffect(() => {
    if (focusOnMount) ref.current?.focus();
  }, [focusOnMount]);

  // Once the writer pauses, ask for the draft's cashtags: the server then holds their quotes when
  // the message goes, and stamps it with the prices the writer saw, without the send waiting.
  useEffect(() => {
    if (!text.includes("$")) return;
    const t = window.setTimeout(() => {
      for (const symbol of cashtagSymbols(text)) quoteStore.ensure(symbol);
    }, DRAFT_PAUSE_MS);
    return () => window.clearTimeout(t);
  }, [text]);

  // Grow with the text up to a limit: by CSS (`field-sizing`) where the browser can, as measuring
  // here forces a layout on every keystroke, which a busy channel's page makes slow.
  useEffect(() => {
    const el = ref.current;
    if (!el || GROWS_BY_ITSELF) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [text]);

  function slowFor(seconds: number) {
    setSlowEnd(Date.now() + seconds * 1000);
  }

  async function send() {
    if (sending || empty || tooLong || !online || blocked) return;
    setSending(true);
    setError(null);
    const res = replyTo
      ? await client.send(channel, text, clientId.current, replyTo)
      : await client.send(channel, text, clientId.current);
    setSending(false);
    if (res.ok) {
      setText("");
      clientId.current = newClientId();
      if (!res.command && slowModeS > 0 && !slowExempt) slowFor(slowModeS);
    } else if (res.error.code === "slow_mode") {
      slowFor(res.error.retry_after ?? slowModeS);
    } else if (res.error.code === "banned") {
      setError(`You are banned from ${place}: your message was not sent.`);
    } else if (!(res.error.code === "muted" && res.error.until)) {
      // (A mute with its end is kept by the client, chatState, and the notice below says until when.)
      setError(res.error.message || res.error.code);
    }
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  }

  function onChange(value: string) {
    setText(value);
    if (error) setError(null);
    if (value.trim() && !value.startsWith("/")) client.typing(channel);
  }

  const describedBy = [
    blocked ? `${id}-wait` : `${id}-hint`,
    error ? `${id}-err` : "",
    left < SHOW_COUNT_BELOW ? `${id}-count` : "",
  ]
    .filter(Boolean)
    .join(" ");

  return (
    <div className="border-t border-ink-700 bg-ink-900 px-3 pb-3 pt-2 sm:px-5">
      <div
        className={`flex items-end gap-2 rounded-xl border bg-ink-850 p-1.5 pl-3 transition focus-within:border-accent/70 focus-within:ring-1 focus-within:ring-accent/40 ${
          error || tooLong ? "border-down/70" : "border-ink-450"
        }`}
      >
        <label htmlFor={inputId} className="sr-only">
          {label ?? `Message #${channel}`}
        </label>
        <textarea
          ref={ref}
          id={inputId}
          rows={1}
          value={text}
          // Writable offline: a draft is kept and sent once the connection is back.
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={onKeyDown}
          placeholder={online ? (label ?? `Message #${channel}`) : "Offline — write now, send when connected…"}
          aria-invalid={error || tooLong ? true : undefined}
          aria-describedby={describedBy}
          className="max-h-[200px] min-h-[2.25rem] flex-1 resize-none [field-sizing:content] bg-transparent py-1.5 text-[15px] leading-6 text-ink-100 outline-none placeholder:text-ink-400 disabled:cursor-not-allowed"
        />
        <button
          type="button"
          onClick={() => void send()}
          disabled={!online || empty || tooLong || sending || blocked}
          className="grid h-9 w-9 shrink-0 place-items-center rounded-lg bg-accent text-ink-950 transition hover:bg-sky-300 disabled:bg-ink-700 disabled:text-ink-500 focus-ring"
          aria-label={replyTo ? "Send reply" : "Send message"}
        >
          <svg viewBox="0 0 20 20" className="h-4.5 w-4.5" fill="currentColor" aria-hidden="true">
            <path d="M3.1 2.3a.75.75 0 01.8-.1l13.5 7a.75.75 0 010 1.3l-13.5 7a.75.75 0 01-1-.9L4.9 10 2.9 3.1a.75.75 0 01.2-.8zM6.2 10.75l-1.4 4.7L14.7 10 4.8 4.6l1.4 4.65H11a.75.75 0 010 1.5H6.2z" />
          </svg>
        </button>
      </div>
      <div className="mt-1 flex min-h-5 items-start gap-3 px-1 text-xs">
        {muted ? (
          <p id={`${id}-wait`} role="status" className="text-gold" data-testid="muted-notice">
            You are muted in {place} until {formatAsOf(mutedUntil!)}
            <span aria-hidden="true">
              {" · "}
              <Countdown end={mutedEnd} /> left
            </span>
          </p>
        ) : slowed ? (
          <p id={`${id}-wait`} className="text-gold" data-testid="slow-mode-notice">
            Slow mode: you can send again in <Countdown end={slowEnd} />
          </p>
        ) : error ? (
          <p id={`${id}-err`} role="alert" className="text-down" data-testid="send-error">
            {error}
          </p>
        ) : (
          <p id={`${id}-hint`} className={`hidden text-ink-400 ${replyTo ? "" : "sm:block"}`}>
            <kbd className="font-sans">Enter</kbd> to send · <kbd className="font-sans">Shift+Enter</kbd> new line ·{" "}
            <code className="font-mono text-ink-400">/stock=aapl.us</code> for a quote · <code className="font-mono text-ink-400">/help</code>
          </p>
        )}
        {left < SHOW_COUNT_BELOW && (
          <p id={`${id}-count`} className={`ml-auto tabular-nums ${tooLong ? "font-semibold text-down" : "text-gold"}`} aria-live="polite">
            {tooLong ? `${-left} characters over the limit` : `${left} characters left`}
          </p>
        )}
      </div>
    </div>
  );
});

/** Time left until `end`, redrawn each second on its own (the composer around it stays still). */
function Countdown({ end }: { end: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, []);
  return <span className="tabular-nums">{formatCountdown(end - now)}</span>;
}
