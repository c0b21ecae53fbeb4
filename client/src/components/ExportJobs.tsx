/** Export jobs: start one (dates, channels, format), watch it run, download its zip when done. */
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { api } from "../lib/api";
import { channelScope, daysBefore, exportError, exportSize, isoDay, isRunning, parseNames, progressText, shortChain, upsertJob } from "../lib/compliance";
import { formatAsOf, formatDateTime } from "../lib/format";
import type { ExportFormat, ExportJob } from "../lib/types";
import { errorText, field, label, primary, small } from "./adminStyles";

/** How often the list is read again while a job runs. */
export const EXPORT_POLL_MS = 2000;
const DEFAULT_DAYS = 7;

const FORMATS: readonly { format: ExportFormat; name: string }[] = [
  { format: "jsonl", name: "JSON Lines" },
  { format: "eml", name: "Email (EML)" },
  { format: "csv", name: "CSV" },
];
const formatName = (f: string) => FORMATS.find((x) => x.format === f)?.name ?? f;
const STATUS = { running: "Running", done: "Done", failed: "Failed" } as const;
const covers = (j: ExportJob) => `${channelScope(j.channels)}, ${j.from} to ${j.to}`;

export function ExportJobs() {
  const [jobs, setJobs] = useState<ExportJob[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [news, setNews] = useState("");
  const [round, setRound] = useState(0);
  // Each job's status when last read: a change from running is told to a screen reader.
  const seen = useRef(new Map<string, string>());

  function take(list: ExportJob[]) {
    const finished = list.filter((j) => seen.current.get(j.id) === "running" && !isRunning(j));
    if (finished.length) setNews(finished.map((j) => (j.status === "done" ? `The export of ${covers(j)} is ready to download.` : `The export of ${covers(j)} failed.`)).join(" "));
    seen.current = new Map(list.map((j) => [j.id, j.status]));
    setJobs(list);
  }

  useEffect(() => {
    api.exports().then(
      (r) => take(r.exports),
      (e: unknown) => setError(errorText(e, "Could not load the exports.")),
    );
  }, []);

  // While any job runs, the list again every EXPORT_POLL_MS, the next read timed from the end of the last.
  const running = jobs?.some(isRunning) ?? false;
  useEffect(() => {
    if (!running) return;
    const t = window.setTimeout(() => {
      api
        .exports()
        .then(
          (r) => {
            setError(null);
            take(r.exports);
          },
          (e: unknown) => setError(errorText(e, "Could not read the exports' progress; trying again.")),
        )
        .finally(() => setRound((n) => n + 1));
    }, EXPORT_POLL_MS);
    return () => window.clearTimeout(t);
  }, [running, round]);

  function started(job: ExportJob) {
    seen.current.set(job.id, job.status);
    setJobs((list) => upsertJob(list ?? [], job));
  }

  async function copy(text: string, what: string) {
    try {
      await navigator.clipboard.writeText(text);
      setNews(`Copied ${what}.`);
    } catch {
      setError("Could not copy; select the text and copy it by hand.");
    }
  }

  return (
    <div>
      <ExportForm onStarted={started} />
      <p role="status" className="mt-2 min-h-4 text-xs text-up">
        {news}
      </p>
      {error && (
        <p role="alert" className="mt-2 text-sm text-down">
          {error}
        </p>
      )}
      {!jobs && !error && <p className="mt-3 text-sm text-ink-400">Loading…</p>}
      {jobs && jobs.length === 0 && <p className="mt-3 text-sm text-ink-400">No exports yet.</p>}
      {jobs && jobs.length > 0 && <JobTable jobs={jobs} onCopy={(text, what) => void copy(text, what)} />}
    </div>
  );
}

function ExportForm({ onStarted }: { onStarted: (job: ExportJob) => void }) {
  const [from, setFrom] = useState(() => isoDay(daysBefore(new Date(), DEFAULT_DAYS)));
  const [to, setTo] = useState(() => isoDay(new Date()));
  const [channels, setChannels] = useState("");
  const [format, setFormat] = useState<ExportFormat>("jsonl");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    if (!from || !to) return setError("Give both dates.");
    if (from > to) return setError("The first day comes after the last.");
    const names = parseNames(channels, "#");
    setBusy(true);
    setError(null);
    try {
      onStarted(await api.startExport({ from, to, format, ...(names.length ? { channels: names } : {}) }));
    } catch (err) {
      setError(errorText(err, "Could not start the export."));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={(e) => void submit(e)} className="flex flex-wrap items-end gap-3" noValidate aria-label="New export">
      <div>
        <label htmlFor={`${id}-from`} className={label}>
          From
        </label>
        <input id={`${id}-from`} type="date" value={from} onChange={(e) => setFrom(e.target.value)} aria-describedby={`${id}-days`} className={field} />
      </div>
      <div>
        <label htmlFor={`${id}-to`} className={label}>
          To
        </label>
        <input id={`${id}-to`} type="date" value={to} onChange={(e) => setTo(e.target.value)} aria-describedby={`${id}-days`} className={field} />
      </div>
      <div className="min-w-48 flex-1">
        <label htmlFor={`${id}-ch`} className={label}>
          Channels
        </label>
        <input
          id={`${id}-ch`}
          value={channels}
          onChange={(e) => setChannels(e.target.value)}
          placeholder="every channel"
          aria-describedby={`${id}-days`}
          autoCapitalize="none"
          spellCheck={false}
          className={`${field} w-full`}
        />
      </div>
      <div>
        <label htmlFor={`${id}-fmt`} className={label}>
          Format
        </label>
        <select id={`${id}-fmt`} value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)} className={field}>
          {FORMATS.map((f) => (
            <option key={f.format} value={f.format}>
              {f.name}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" disabled={busy} className={primary}>
        Start export
      </button>
      <p id={`${id}-days`} className="w-full text-xs text-ink-400">
        Whole UTC days, both included; channels separated by commas, none for every channel. An export holds every message, every edit and deletion with
        its original, and every channel event, with each channel&apos;s chain head and a manifest of checksums.
      </p>
      {error && (
        <p role="alert" className="w-full text-sm text-down">
          {error}
        </p>
      )}
    </form>
  );
}

type Copy = (text: string, what: string) => void;

function JobTable({ jobs, onCopy }: { jobs: readonly ExportJob[]; onCopy: Copy }) {
  return (
    <div className="mt-4 overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Exports</caption>
        <thead className="text-xs text-ink-400">
          <tr>
            <th className="py-1 pr-3 font-medium">Requested</th>
            <th className="py-1 pr-3 font-medium">Covers</th>
            <th className="py-1 pr-3 font-medium">Format</th>
            <th className="py-1 pr-3 font-medium">Status</th>
            <th className="py-1 font-medium">
              <span className="sr-only">Download</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <JobRow key={j.id} job={j} onCopy={onCopy} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobRow({ job: j, onCopy }: { job: ExportJob; onCopy: Copy }) {
  const failure = exportError(j);
  const { channels_done, channels } = j.progress;
  return (
    <tr className="border-t border-ink-700 align-top" data-testid="export-job" data-id={j.id} data-status={j.status}>
      <td className="py-1.5 pr-3">
        <time dateTime={j.created_at} title={formatDateTime(j.created_at)} className="tabular-nums">
          {formatAsOf(j.created_at)}
        </time>
        <span className="block text-xs text-ink-400">{j.created_by}</span>
      </td>
      <td className="py-1.5 pr-3">
        <span className="block">{channelScope(j.channels)}</span>
        <span className="block text-xs tabular-nums text-ink-400">
          {j.from} to {j.to}
        </span>
      </td>
      <td className="py-1.5 pr-3">{formatName(j.format)}</td>
      <td className="py-1.5 pr-3">
        <span className={`font-medium ${j.status === "failed" ? "text-down" : j.status === "done" ? "text-up" : "text-ink-100"}`} data-testid="export-status">
          {STATUS[j.status] ?? j.status}
        </span>
        {j.status === "running" && (
          <progress
            max={channels || undefined}
            value={channels ? channels_done : undefined}
            aria-label={`Progress of the export of ${covers(j)}`}
            className="ml-2 h-1.5 w-24 appearance-none overflow-hidden rounded align-middle [&::-moz-progress-bar]:bg-accent [&::-webkit-progress-bar]:bg-ink-700 [&::-webkit-progress-value]:bg-accent"
          />
        )}
        <span className="block text-xs tabular-nums text-ink-400" data-testid="export-progress">
          {progressText(j)}
        </span>
        {failure && <span className="block text-xs text-down">{failure}</span>}
        {j.status === "done" && (
          <span className="block text-xs tabular-nums text-ink-400" data-testid="export-size">
            {exportSize(j)}
          </span>
        )}
        {j.status === "done" && j.manifest && <Manifest job={j} onCopy={onCopy} />}
      </td>
      <td className="py-1.5">
        {j.status === "done" && (
          <a href={api.exportDownloadUrl(j.id)} download aria-label={`Download the export of ${covers(j)}`} className={`${small} inline-block`}>
            Download
          </a>
        )}
      </td>
    </tr>
  );
}

/** manifest.json's sha256, to note down: the export shown unchanged later by hashing its manifest again. */
function Manifest({ job: j, onCopy }: { job: ExportJob; onCopy: Copy }) {
  const sha = j.manifest ?? "";
  return (
    <span className="mt-0.5 flex items-center gap-1.5 text-xs">
      <span className="text-ink-400">manifest</span>
      <code className="font-mono text-ink-200" title={sha} data-testid="export-manifest" data-sha256={sha}>
        {shortChain(sha)}
      </code>
      <button type="button" className={small} aria-label={`Copy the manifest checksum of the export of ${covers(j)}`} onClick={() => onCopy(sha, "the manifest checksum")}>
        Copy
      </button>
    </span>
  );
}
