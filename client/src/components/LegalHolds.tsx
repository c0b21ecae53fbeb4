/** Legal holds: the standing ones, placing one (what it covers, why) and releasing one after a confirm. */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { api } from "../lib/api";
import { holdScope, parseNames } from "../lib/compliance";
import { formatAsOf, formatDateTime } from "../lib/format";
import type { LegalHold } from "../lib/types";
import { danger, errorText, field, label, primary, small } from "./adminStyles";

export function LegalHolds() {
  const [holds, setHolds] = useState<LegalHold[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [news, setNews] = useState("");
  const list = useRef<HTMLUListElement>(null);

  useEffect(() => {
    api.holds().then(
      (r) => setHolds(r.holds),
      (e: unknown) => setError(errorText(e, "Could not load the legal holds.")),
    );
  }, []);

  function placed(hold: LegalHold) {
    // Last, as the server lists them: oldest first.
    setHolds((hs) => [...(hs ?? []).filter((h) => h.name !== hold.name), hold]);
    setNews(`Hold ${hold.name} placed.`);
  }

  async function release(name: string): Promise<boolean> {
    setError(null);
    try {
      await api.releaseHold(name);
    } catch (e) {
      setError(errorText(e, "Could not release the hold."));
      return false;
    }
    setHolds((hs) => (hs ?? []).filter((h) => h.name !== name));
    setNews(`Hold ${name} released.`);
    // Its row is gone: the list keeps the keyboard's place.
    list.current?.focus();
    return true;
  }

  return (
    <div>
      <HoldForm onPlaced={placed} />
      <span role="status" className="sr-only">
        {news}
      </span>
      {error && (
        <p role="alert" className="mt-2 text-sm text-down">
          {error}
        </p>
      )}
      {!holds && !error && <p className="mt-3 text-sm text-ink-400">Loading…</p>}
      {holds && holds.length === 0 && <p className="mt-3 text-sm text-ink-400">No holds: retention applies everywhere.</p>}
      {holds && holds.length > 0 && (
        <ul ref={list} tabIndex={-1} className="mt-4 divide-y divide-ink-700 outline-none" aria-label="Legal holds">
          {holds.map((h) => (
            <HoldRow key={h.name} hold={h} onRelease={release} />
          ))}
        </ul>
      )}
    </div>
  );
}

function HoldForm({ onPlaced }: { onPlaced: (hold: LegalHold) => void }) {
  const [name, setName] = useState("");
  const [channels, setChannels] = useState("");
  const [users, setUsers] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);
  const id = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    if (!name.trim()) {
      setError("Give the hold a name.");
      nameRef.current?.focus();
      return;
    }
    const chs = parseNames(channels, "#");
    const us = parseNames(users, "@");
    setBusy(true);
    setError(null);
    try {
      const hold = await api.placeHold({
        name: name.trim(),
        ...(chs.length ? { channels: chs } : {}),
        ...(us.length ? { users: us } : {}),
        ...(reason.trim() ? { reason: reason.trim() } : {}),
      });
      onPlaced(hold);
      setName("");
      setChannels("");
      setUsers("");
      setReason("");
    } catch (err) {
      setError(errorText(err, "Could not place the hold."));
    } finally {
      setBusy(false);
    }
  }

  const input = (key: string, text: string, value: string, set: (v: string) => void, extra: object = {}) => (
    <div className="min-w-40 flex-1">
      <label htmlFor={`${id}-${key}`} className={label}>
        {text}
      </label>
      <input id={`${id}-${key}`} value={value} onChange={(e) => set(e.target.value)} autoCapitalize="none" spellCheck={false} className={`${field} w-full`} {...extra} />
    </div>
  );

  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label="Place a legal hold" aria-describedby={`${id}-hint`}>
      <div className="flex flex-wrap items-end gap-3">
        {input("name", "Name", name, setName, { ref: nameRef, maxLength: 64, placeholder: "matter-2026-014", "aria-required": true, "aria-invalid": error && !name.trim() ? true : undefined })}
        {input("ch", "Channels", channels, setChannels, { placeholder: "desk, general" })}
        {input("users", "Users", users, setUsers, { placeholder: "alice, bob" })}
        {input("reason", "Reason", reason, setReason, { placeholder: "SEC inquiry 2026-014" })}
        <button type="submit" disabled={busy} className={primary}>
          Place hold
        </button>
      </div>
      <p id={`${id}-hint`} className="mt-1 text-xs text-ink-400">
        Nothing a hold covers is removed under the retention policy while it stands. Channels and users separated by commas; neither: the hold covers everything.
      </p>
      {error && (
        <p role="alert" className="mt-1 text-sm text-down">
          {error}
        </p>
      )}
    </form>
  );
}

function HoldRow({ hold: h, onRelease }: { hold: LegalHold; onRelease: (name: string) => Promise<boolean> }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const button = useRef<HTMLButtonElement>(null);

  function cancel() {
    setConfirming(false);
    button.current?.focus();
  }

  async function confirm() {
    if (busy) return;
    setBusy(true);
    const ok = await onRelease(h.name);
    if (!ok) {
      setBusy(false);
      cancel();
    }
  }

  return (
    <li className="py-2 text-sm" data-testid="legal-hold" data-name={h.name}>
      <div className="flex flex-wrap items-baseline gap-x-2">
        <span className="font-medium text-ink-100">{h.name}</span>
        <span className="text-ink-200" data-testid="hold-scope">
          {holdScope(h)}
        </span>
        {h.reason && <span className="text-ink-300">· {h.reason}</span>}
        {(h.created_by || h.created_at) && (
          <span className="text-xs text-ink-400">
            placed{h.created_by && ` by ${h.created_by}`}
            {h.created_at && (
              <>
                {" "}
                <time dateTime={h.created_at} title={formatDateTime(h.created_at)}>
                  {formatAsOf(h.created_at)}
                </time>
              </>
            )}
          </span>
        )}
        <button ref={button} type="button" className={`${small} ml-auto`} aria-label={`Release hold ${h.name}`} onClick={() => setConfirming(true)}>
          Release
        </button>
      </div>
      {confirming && <ConfirmRelease name={h.name} busy={busy} onConfirm={() => void confirm()} onCancel={cancel} />}
    </li>
  );
}

function ConfirmRelease({ name, busy, onConfirm, onCancel }: { name: string; busy: boolean; onConfirm: () => void; onCancel: () => void }) {
  const yes = useRef<HTMLButtonElement>(null);
  const id = useId();
  useEffect(() => yes.current?.focus(), []);

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key !== "Escape") return;
    e.preventDefault();
    e.stopPropagation();
    onCancel();
  }

  return (
    <div
      role="alertdialog"
      aria-label={`Release hold ${name}`}
      aria-describedby={id}
      onKeyDown={onKeyDown}
      className="mt-1.5 flex flex-wrap items-center gap-2 rounded-lg border border-down/40 bg-down/10 px-2.5 py-1.5"
    >
      <p id={id} className="text-ink-100">
        Release {name}? What it kept becomes subject to the retention policy again.
      </p>
      <button ref={yes} type="button" onClick={onConfirm} aria-disabled={busy} className={danger}>
        Yes, release
      </button>
      <button type="button" onClick={onCancel} className={small}>
        Cancel
      </button>
    </div>
  );
}
