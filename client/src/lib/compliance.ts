/** What the compliance area shows of chain heads, export jobs and legal holds, apart from how it shows them. */
import type { ChainHead, ExportJob, LegalHold } from "./types";

/**
 * Names typed as a list: split on commas and spaces, a leading `sigil` ("#" of a channel, "@" of a
 * user) dropped, each once in the order first given (any letter case counts as the same name).
 */
export function parseNames(text: string, sigil: "#" | "@"): string[] {
  const seen = new Set<string>();
  const names: string[] = [];
  for (const raw of text.split(/[\s,]+/)) {
    const name = raw.startsWith(sigil) ? raw.slice(1) : raw;
    if (name && !seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      names.push(name);
    }
  }
  return names;
}

/** A chain as people compare it by eye: its first 12 and last 4 hex digits. */
export const shortChain = (chain: string): string => (chain.length > 20 ? `${chain.slice(0, 12)}…${chain.slice(-4)}` : chain);

/** The heads as published: the server's answer with when it was read. */
export function headsJson(heads: readonly ChainHead[], asOf: Date): string {
  return JSON.stringify({ as_of: asOf.toISOString(), channels: heads }, null, 2);
}

/** A day as the date fields and the server take it (YYYY-MM-DD, UTC). */
export const isoDay = (d: Date): string => d.toISOString().slice(0, 10);

export function daysBefore(d: Date, days: number): Date {
  return new Date(d.getTime() - days * 86_400_000);
}

export const isRunning = (job: ExportJob): boolean => job.status === "running";

/** "1,234 events · 2 of 5 channels"; the events alone while the channels are not yet counted (every channel asked). */
export function progressText(job: ExportJob): string {
  const { events, channels_done, channels } = job.progress;
  const written = `${events.toLocaleString("en-US")} ${events === 1 ? "event" : "events"}`;
  return channels ? `${written} · ${channels_done} of ${channels} ${channels === 1 ? "channel" : "channels"}` : written;
}

export function exportError(job: ExportJob): string | null {
  if (job.status !== "failed") return null;
  if (job.error === "interrupted") return "Interrupted: its server stopped before it finished. Start it again.";
  return job.error || "The export failed.";
}

/** "812 B", "2.1 kB", "140 MB" (powers of 1000, as file managers count). */
export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${i === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** A finished job's files and zip size: "3 files · 2.1 kB". */
export function exportSize(job: ExportJob): string | null {
  if (job.status !== "done" || job.files == null) return null;
  const files = `${job.files} ${job.files === 1 ? "file" : "files"}`;
  return job.size == null ? files : `${files} · ${formatBytes(job.size)}`;
}

/** What a job covers: "#desk, #general", or "every channel". */
export const channelScope = (channels: readonly string[] | null | undefined): string =>
  channels?.length ? channels.map((c) => `#${c}`).join(", ") : "every channel";

/** What a hold covers: its channels and users, or everything when it names neither. */
export function holdScope(hold: LegalHold): string {
  const parts = [...(hold.channels ?? []).map((c) => `#${c}`), ...(hold.users ?? []).map((u) => `@${u}`)];
  return parts.length ? parts.join(", ") : "everything";
}

/** A job list with `job` in it: replaced where it was, else first (newest). */
export function upsertJob(jobs: readonly ExportJob[], job: ExportJob): ExportJob[] {
  return jobs.some((j) => j.id === job.id) ? jobs.map((j) => (j.id === job.id ? job : j)) : [job, ...jobs];
}
