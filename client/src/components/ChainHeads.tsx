/** Every channel's journal head (GET /api/admin/archive/heads), to compare by eye, copy one by one or publish all at once. */
import { useEffect, useState } from "react";
import { api } from "../lib/api";
import { headsJson, shortChain } from "../lib/compliance";
import { formatDateTime } from "../lib/format";
import type { ChainHead } from "../lib/types";
import { errorText, small } from "./adminStyles";

export function ChainHeads() {
  const [heads, setHeads] = useState<{ channels: ChainHead[]; readAt: Date } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState("");

  const [round, setRound] = useState(0);

  useEffect(() => {
    api.archiveHeads().then(
      (r) => setHeads({ channels: r.channels, readAt: new Date() }),
      (e: unknown) => setError(errorText(e, "Could not load the chain heads.")),
    );
  }, [round]);

  function refresh() {
    setError(null);
    setCopied("");
    setRound((n) => n + 1);
  }

  async function copy(text: string, what: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(`Copied ${what}.`);
    } catch {
      setError("Could not copy; select the text and copy it by hand.");
    }
  }

  return (
    <div>
      <p className="mb-3 max-w-prose text-sm text-ink-300">
        Each channel&apos;s chain covers every archived event up to its last seq. Publish the heads each day: anyone can later recompute a chain from an export and
        compare.
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <button type="button" className={small} disabled={!heads?.channels.length} onClick={() => heads && void copy(headsJson(heads.channels, heads.readAt), "every head as JSON")}>
          Copy all as JSON
        </button>
        <button type="button" className={small} onClick={refresh}>
          Refresh
        </button>
        {heads && (
          <span className="text-xs text-ink-400">
            Read <time dateTime={heads.readAt.toISOString()}>{formatDateTime(heads.readAt)}</time>
          </span>
        )}
        <span role="status" className="text-xs text-up">
          {copied}
        </span>
      </div>
      {error && (
        <p role="alert" className="mt-2 text-sm text-down">
          {error}
        </p>
      )}
      {!heads && !error && <p className="mt-3 text-sm text-ink-400">Loading…</p>}
      {heads && heads.channels.length === 0 && <p className="mt-3 text-sm text-ink-400">No channel has archived events yet.</p>}
      {heads && heads.channels.length > 0 && (
        <div className="mt-3 overflow-x-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Chain heads</caption>
            <thead className="text-xs text-ink-400">
              <tr>
                <th className="py-1 font-medium">Channel</th>
                <th className="py-1 text-right font-medium">Last seq</th>
                <th className="py-1 pl-4 font-medium">Chain</th>
              </tr>
            </thead>
            <tbody>
              {heads.channels.map((h) => (
                <tr key={h.name} className="border-t border-ink-700" data-testid="chain-head" data-channel={h.name}>
                  <td className="py-1">#{h.name}</td>
                  <td className="py-1 text-right tabular-nums">
                    {h.last_seq}
                    {(h.first_seq ?? 1) > 1 && (
                      <span className="block text-xs text-ink-400" title="Earlier records were archived before the journal existed">
                        journaled from {h.first_seq}
                      </span>
                    )}
                  </td>
                  <td className="py-1 pl-4">
                    <span className="flex items-center gap-2">
                      <code className="font-mono text-xs text-ink-100" title={h.chain} data-testid="chain" data-chain={h.chain}>
                        {shortChain(h.chain)}
                      </code>
                      <button type="button" className={small} aria-label={`Copy the chain of #${h.name}`} onClick={() => void copy(h.chain, `the chain of #${h.name}`)}>
                        Copy
                      </button>
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
