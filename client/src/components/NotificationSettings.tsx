import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { channelLabel, isDm } from "../lib/access";
import { api } from "../lib/api";
import { askDesktopPermission, desktopPermission, type DesktopPermission } from "../lib/desktopNotify";
import { MAX_CASHTAGS, MAX_KEYWORDS, prefsFromForm, type LevelChoice } from "../lib/notifyPrefs";
import type { Channel, NotifyLevel, NotifyPrefs } from "../lib/types";
import { holdFocus } from "./holdFocus";

interface Props {
  channels: readonly Channel[];
  me: string;
  onClose: () => void;
}

const FIELD = "w-full rounded-md border bg-ink-950 px-2 py-1.5 text-sm focus-ring";

/**
 * What notifies the user (GET/PUT /api/me/notify): keywords, watched cashtags and a level per channel;
 * and, on this browser, desktop notifications while the tab is hidden. A modal dialog.
 */
export function NotificationSettings({ channels, me, onClose }: Props) {
  const [stored, setStored] = useState<NotifyPrefs | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);
  const id = useId();

  useEffect(() => {
    let live = true;
    api.notifyPrefs().then(
      (p) => live && setStored(p),
      (e: unknown) => live && setLoadError(e instanceof Error ? e.message : "Could not load your notification settings."),
    );
    return () => {
      live = false;
    };
  }, [attempt]);

  useEffect(() => heading.current?.focus(), []);

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    } else holdFocus(e);
  }

  return (
    <div className="fixed inset-0 z-50 grid place-items-center bg-black/60 p-3" onPointerDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        onKeyDown={onKeyDown}
        className="flex max-h-[90vh] w-[min(96vw,32rem)] flex-col overflow-hidden rounded-xl border border-ink-600 bg-ink-850 shadow-2xl shadow-black/60"
        data-testid="notification-settings"
      >
        <div className="flex items-center border-b border-ink-700 px-4 py-3">
          <h2 ref={heading} id={`${id}-title`} tabIndex={-1} className="text-base font-semibold outline-none">
            Notification settings
          </h2>
          <button type="button" onClick={onClose} className="ml-auto rounded px-1.5 text-sm text-ink-300 hover:bg-ink-700 focus-ring" aria-label="Close notification settings">
            ✕
          </button>
        </div>
        <div className="min-h-0 overflow-y-auto px-4 py-3">
          <section aria-labelledby={`${id}-desktop`} className="mb-4">
            <h3 id={`${id}-desktop`} className="mb-1 text-sm font-semibold text-ink-200">
              On this browser
            </h3>
            <DesktopNotifications />
          </section>
          {stored ? (
            <PrefsForm stored={stored} channels={channels} me={me} onSaved={setStored} onClose={onClose} />
          ) : loadError ? (
            <div role="alert" className="text-sm text-down">
              {loadError}{" "}
              <button
                type="button"
                onClick={() => {
                  setLoadError(null);
                  setAttempt((n) => n + 1);
                }}
                className="ml-1 rounded border border-down/50 px-1.5 py-px text-xs hover:bg-down/10 focus-ring"
              >
                Try again
              </button>
            </div>
          ) : (
            <p className="text-sm text-ink-400" role="status">
              Loading your settings…
            </p>
          )}
        </div>
      </div>
    </div>
  );
}

function PrefsForm({
  stored,
  channels,
  me,
  onSaved,
  onClose,
}: {
  stored: NotifyPrefs;
  channels: readonly Channel[];
  me: string;
  onSaved: (p: NotifyPrefs) => void;
  onClose: () => void;
}) {
  const [keywords, setKeywords] = useState(() => stored.keywords.join("\n"));
  const [cashtags, setCashtags] = useState(() => stored.cashtags.map((c) => `$${c}`).join(" "));
  const [levels, setLevels] = useState<Record<string, LevelChoice>>(() =>
    Object.fromEntries(channels.map((c) => [c.name, stored.channels[c.name] ?? ""])),
  );
  const [errors, setErrors] = useState<{ keywordsError?: string; cashtagsError?: string }>({});
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const keywordsRef = useRef<HTMLTextAreaElement>(null);
  const cashtagsRef = useRef<HTMLInputElement>(null);
  const id = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setSaved(false);
    setSaveError(null);
    const form = prefsFromForm(keywords, cashtags, stored.channels, levels);
    if (!("prefs" in form)) {
      setErrors(form);
      (form.keywordsError ? keywordsRef : cashtagsRef).current?.focus();
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const now = await api.setNotifyPrefs(form.prefs);
      onSaved(now);
      setKeywords(now.keywords.join("\n"));
      setCashtags(now.cashtags.map((c) => `$${c}`).join(" "));
      setSaved(true);
    } catch (err) {
      setSaveError(err instanceof Error ? `Not saved: ${err.message}` : "Not saved: the server did not answer.");
    } finally {
      setBusy(false);
    }
  }

  const field = (error?: string) => `${FIELD} ${error ? "border-down" : "border-ink-450"}`;
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <label htmlFor={`${id}-keywords`} className="mb-1 block text-sm font-semibold text-ink-200">
        Keywords
      </label>
      <textarea
        ref={keywordsRef}
        id={`${id}-keywords`}
        value={keywords}
        onChange={(e) => setKeywords(e.target.value)}
        rows={3}
        placeholder={"earnings\nrate cut"}
        aria-invalid={errors.keywordsError ? true : undefined}
        aria-describedby={`${id}-keywords-hint${errors.keywordsError ? ` ${id}-keywords-error` : ""}`}
        className={field(errors.keywordsError)}
      />
      <p id={`${id}-keywords-hint`} className="mt-0.5 text-xs text-ink-400">
        Words or phrases, one a line or separated by commas; whole words, any letter case. Up to {MAX_KEYWORDS}.
      </p>
      {errors.keywordsError && (
        <p id={`${id}-keywords-error`} className="mt-0.5 text-xs text-down" data-testid="keywords-error">
          {errors.keywordsError}
        </p>
      )}

      <label htmlFor={`${id}-cashtags`} className="mb-1 mt-3 block text-sm font-semibold text-ink-200">
        Cashtags
      </label>
      <input
        ref={cashtagsRef}
        id={`${id}-cashtags`}
        value={cashtags}
        onChange={(e) => setCashtags(e.target.value)}
        placeholder="$AAPL $TSLA"
        autoCapitalize="characters"
        spellCheck={false}
        aria-invalid={errors.cashtagsError ? true : undefined}
        aria-describedby={`${id}-cashtags-hint${errors.cashtagsError ? ` ${id}-cashtags-error` : ""}`}
        className={field(errors.cashtagsError)}
      />
      <p id={`${id}-cashtags-hint`} className="mt-0.5 text-xs text-ink-400">
        Notified when any message you can read mentions one. Up to {MAX_CASHTAGS}.
      </p>
      {errors.cashtagsError && (
        <p id={`${id}-cashtags-error`} className="mt-0.5 text-xs text-down" data-testid="cashtags-error">
          {errors.cashtagsError}
        </p>
      )}

      <fieldset className="mt-3">
        <legend className="mb-1 text-sm font-semibold text-ink-200">Channels</legend>
        <p className="mb-1.5 text-xs text-ink-400">Unset, a channel notifies of mentions, keywords and cashtags; a direct message of every message.</p>
        <ul className="flex flex-col gap-1">
          {channels.map((c) => {
            const label = channelLabel(c, c.name, me);
            return (
              <li key={c.name} className="flex items-center gap-2">
                <label htmlFor={`${id}-level-${c.name}`} className="min-w-0 flex-1 truncate text-sm text-ink-200">
                  {label}
                </label>
                <select
                  id={`${id}-level-${c.name}`}
                  value={levels[c.name] ?? ""}
                  onChange={(e) => setLevels((l) => ({ ...l, [c.name]: e.target.value as NotifyLevel | "" }))}
                  className="w-44 rounded-md border border-ink-450 bg-ink-950 px-2 py-1 text-sm focus-ring"
                >
                  <option value="">{isDm(c) ? "Default (every message)" : "Default"}</option>
                  <option value="all">Every message</option>
                  <option value="mentions">Only mentions</option>
                  <option value="none">Nothing</option>
                </select>
              </li>
            );
          })}
        </ul>
      </fieldset>

      {saveError && (
        <p role="alert" className="mt-3 text-sm text-down" data-testid="settings-error">
          {saveError}
        </p>
      )}
      <p role="status" className="mt-3 min-h-5 text-sm text-up">
        {saved ? "Saved." : ""}
      </p>
      <div className="mt-1 flex justify-end gap-2">
        <button type="button" onClick={onClose} className="rounded-md px-3 py-1 text-sm text-ink-300 hover:bg-ink-700 focus-ring">
          Close
        </button>
        <button type="submit" disabled={busy} className="rounded-md bg-accent px-3 py-1 text-sm font-semibold text-ink-950 disabled:opacity-50 focus-ring">
          {busy ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}

const PERMISSION_TEXT: Record<Exclude<DesktopPermission, "default">, string> = {
  unsupported: "This browser cannot show desktop notifications.",
  granted: "Desktop notifications are on: they show while this tab is hidden. The browser's site settings turn them off.",
  denied: "Desktop notifications are blocked for this site; the browser's site settings allow them again.",
};

/**
 * Desktop notifications on this browser: asked for only when the user clicks (a prompt on load is one
 * most people block for good), and how things stand after.
 */
export function DesktopNotifications({ compact = false }: { compact?: boolean }) {
  const [permission, setPermission] = useState<DesktopPermission>(desktopPermission);
  // The inbox offers the button only while there is something to ask; the settings always say where things stand.
  if (compact && permission !== "default") return null;
  return permission === "default" ? (
    <div className={compact ? "mb-2 rounded-lg border border-ink-700 px-2 py-1.5" : ""}>
      <button
        type="button"
        onClick={() => void askDesktopPermission().then(setPermission)}
        className="rounded-md border border-accent/60 px-2.5 py-1 text-xs font-semibold text-accent hover:bg-accent/10 focus-ring"
      >
        Enable desktop notifications
      </button>
      <p className="mt-1 text-xs text-ink-400">Shown while this tab is hidden.</p>
    </div>
  ) : (
    <p className="text-xs text-ink-300" data-testid="desktop-permission">
      {PERMISSION_TEXT[permission]}
    </p>
  );
}
