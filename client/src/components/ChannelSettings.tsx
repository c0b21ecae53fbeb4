import { memo, useCallback, useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent, type RefObject } from "react";
import type { ChatClient } from "../lib/chatClient";
import { formatDuration } from "../lib/format";
import { GearIcon } from "./icons";

const TOPIC_MAX = 250;
/** Slow mode choices, seconds (the server takes 0 to 3600). */
const SLOW_CHOICES = [0, 5, 10, 30, 60, 120, 300, 900, 3600];

interface Props {
  client: ChatClient;
  channel: string;
  place: string;
  topic: string;
  slowModeS: number;
}

/** The channel header's settings button (owners, moderators, site admins): topic and slow mode. Memoized like the members button. */
export const ChannelSettingsButton = memo(function ChannelSettingsButton({ client, channel, place, topic, slowModeS }: Props) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const id = useId();

  const close = useCallback(() => {
    setOpen(false);
    button.current?.focus();
  }, []);

  return (
    <div className="relative">
      <button
        ref={button}
        type="button"
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        aria-haspopup="dialog"
        className="flex items-center rounded-md px-2 py-1 text-sm text-ink-300 hover:bg-ink-700 focus-ring"
        data-testid="settings-button"
      >
        <GearIcon />
        <span className="sr-only">Channel settings</span>
      </button>
      {open && <SettingsForm id={id} client={client} channel={channel} place={place} topic={topic} slowModeS={slowModeS} onDone={close} exclude={button} />}
    </div>
  );
});

function SettingsForm({
  id,
  client,
  channel,
  place,
  topic,
  slowModeS,
  onDone,
  exclude,
}: Props & { id: string; onDone: () => void; exclude: RefObject<HTMLButtonElement | null> }) {
  const [draftTopic, setDraftTopic] = useState(topic);
  const [slow, setSlow] = useState(slowModeS);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const topicRef = useRef<HTMLInputElement>(null);

  useEffect(() => topicRef.current?.focus(), []);

  // A click elsewhere closes it (its own button toggles it).
  useEffect(() => {
    const onDown = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!form.current?.contains(t) && !exclude.current?.contains(t)) onDone();
    };
    document.addEventListener("pointerdown", onDown);
    return () => document.removeEventListener("pointerdown", onDown);
  }, [onDone, exclude]);

  const choices = SLOW_CHOICES.includes(slowModeS) ? SLOW_CHOICES : [...SLOW_CHOICES, slowModeS].sort((a, b) => a - b);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    const changes: { topic?: string; slow_mode_s?: number } = {};
    if (draftTopic.trim() !== topic) changes.topic = draftTopic.trim();
    if (slow !== slowModeS) changes.slow_mode_s = slow;
    if (changes.topic === undefined && changes.slow_mode_s === undefined) return onDone();
    setBusy(true);
    setError(null);
    try {
      await client.updateChannel(channel, changes);
      onDone();
    } catch (err) {
      setError(err instanceof Error ? err.message : "Could not save the settings.");
      setBusy(false);
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLFormElement>) {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onDone();
    }
  }

  return (
    <form
      ref={form}
      id={id}
      role="dialog"
      aria-label={`Settings of ${place}`}
      onSubmit={(e) => void submit(e)}
      onKeyDown={onKeyDown}
      noValidate
      className="absolute right-0 top-full z-30 mt-1 w-[min(92vw,22rem)] rounded-xl border border-ink-600 bg-ink-850 p-3 shadow-2xl shadow-black/60"
      data-testid="settings-panel"
    >
      <h2 className="mb-2 text-sm font-semibold">Settings of {place}</h2>
      <label htmlFor={`${id}-topic`} className="mb-1 block text-xs font-medium text-ink-300">
        Topic
      </label>
      <input
        ref={topicRef}
        id={`${id}-topic`}
        value={draftTopic}
        maxLength={TOPIC_MAX}
        onChange={(e) => setDraftTopic(e.target.value)}
        placeholder="What this channel is for"
        className="w-full rounded-md border border-ink-450 bg-ink-950 px-2 py-1.5 text-sm focus-ring"
      />
      <label htmlFor={`${id}-slow`} className="mb-1 mt-3 block text-xs font-medium text-ink-300">
        Slow mode
      </label>
      <select
        id={`${id}-slow`}
        value={slow}
        onChange={(e) => setSlow(Number(e.target.value))}
        aria-describedby={`${id}-slow-hint`}
        className="w-full rounded-md border border-ink-450 bg-ink-950 px-2 py-1.5 text-sm focus-ring"
      >
        {choices.map((s) => (
          <option key={s} value={s}>
            {s === 0 ? "Off" : `One message every ${formatDuration(s)}`}
          </option>
        ))}
      </select>
      <p id={`${id}-slow-hint`} className="mt-1 text-xs text-ink-400">
        Owners and moderators are not slowed.
      </p>
      {error && (
        <p role="alert" className="mt-2 text-xs text-down">
          {error}
        </p>
      )}
      <div className="mt-3 flex justify-end gap-2">
        <button type="button" onClick={onDone} className="rounded-md px-2.5 py-1 text-sm text-ink-300 hover:bg-ink-700 focus-ring">
          Cancel
        </button>
        <button type="submit" disabled={busy} className="rounded-md bg-accent px-3 py-1 text-sm font-semibold text-ink-950 disabled:opacity-50 focus-ring">
          Save
        </button>
      </div>
    </form>
  );
}
