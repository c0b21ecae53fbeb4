/** The audit log, newest first and paged back: who did what, when, to whom, with each action in words. */
import { useEffect, useId, useState } from "react";
import { api } from "../lib/api";
import { actionLabel, detailPairs } from "../lib/audit";
import { formatAsOf, formatDateTime } from "../lib/format";
import type { AuditEntry } from "../lib/types";
import { errorText, heading, section, small } from "./adminStyles";

export function AuditLog() {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  useEffect(() => {
    api.audit().then(
      (r) => {
        setEntries(r.entries);
        setNext(r.next_before);
      },
      (e: unknown) => setError(errorText(e, "Could not load the audit log.")),
    );
  }, []);

  async function older() {
    if (!next || busy) return;
    setBusy(true);
    try {
      const r = await api.audit(next);
      setEntries((list) => [...list, ...r.entries]);
      setNext(r.next_before);
    } catch (e) {
      setError(errorText(e, "Could not load older entries."));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className={section} aria-labelledby={`${id}-h`} data-testid="admin-audit">
      <h2 id={`${id}-h`} className={heading}>
        Audit log
      </h2>
      {error && (
        <p role="alert" className="mb-2 text-sm text-down">
          {error}
        </p>
      )}
      {next === undefined && !error ? (
        <p className="text-sm text-ink-400">Loading…</p>
      ) : entries.length === 0 ? (
        <p className="text-sm text-ink-400">Nothing recorded yet.</p>
      ) : (
        <ol className="divide-y divide-ink-700" aria-label="Audit entries">
          {entries.map((e) => (
            <Entry key={e.id} entry={e} />
          ))}
        </ol>
      )}
      {next && (
        <button type="button" onClick={() => void older()} disabled={busy} className={`${small} mt-2`}>
          Load older entries
        </button>
      )}
    </section>
  );
}

function Entry({ entry: e }: { entry: AuditEntry }) {
  const label = actionLabel(e.action);
  return (
    <li className="flex flex-wrap items-baseline gap-x-2 py-1.5 text-sm" data-testid="audit-entry" data-action={e.action}>
      <time dateTime={e.ts} title={formatDateTime(e.ts)} className="text-xs tabular-nums text-ink-400">
        {formatAsOf(e.ts)}
      </time>
      <span className="font-medium text-ink-100">{e.actor ?? "command line"}</span>
      <span className="text-ink-100" data-testid="audit-action">
        {label}
      </span>
      {/* The action's own name too, as the API and docs spell it, for whoever searches or scripts. */}
      {label !== e.action && <code className="font-mono text-[11px] text-ink-400">{e.action}</code>}
      {e.target && <span className="text-ink-200">{e.target}</span>}
      {e.channel && <span className="text-ink-400">#{e.channel}</span>}
      {detailPairs(e).map((d) => (
        <span key={d.key} className="min-w-0 break-all text-xs text-ink-300" data-testid="audit-detail">
          <span className="text-ink-400">{d.label}:</span> {d.value}
        </span>
      ))}
    </li>
  );
}
