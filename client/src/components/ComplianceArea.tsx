/** The compliance archive on the administration page: chain heads, exports and legal holds, one tab each. */
import { useId, useState, type KeyboardEvent } from "react";
import { heading, section } from "./adminStyles";
import { ChainHeads } from "./ChainHeads";
import { ExportJobs } from "./ExportJobs";
import { LegalHolds } from "./LegalHolds";

const TABS = [
  { key: "heads", name: "Chain heads", Panel: ChainHeads },
  { key: "exports", name: "Exports", Panel: ExportJobs },
  { key: "holds", name: "Legal holds", Panel: LegalHolds },
] as const;
type Tab = (typeof TABS)[number]["key"];

/**
 * Site admins and compliance. A tab's panel is made when first opened and kept after, hidden, so a
 * half-typed form survives a look at another tab and a running export's progress keeps coming in.
 */
export function ComplianceArea() {
  const [tab, setTab] = useState<Tab>("heads");
  const [opened, setOpened] = useState<ReadonlySet<Tab>>(() => new Set(["heads"]));
  const id = useId();
  const tabId = (t: Tab) => `${id}-${t}-tab`;

  function choose(t: Tab) {
    setTab(t);
    setOpened((s) => (s.has(t) ? s : new Set([...s, t])));
  }

  // The arrow keys, Home and End move along the tabs and open the one reached (the ARIA tabs pattern).
  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const at = TABS.findIndex((t) => t.key === tab);
    const to =
      e.key === "ArrowRight" ? (at + 1) % TABS.length
      : e.key === "ArrowLeft" ? (at + TABS.length - 1) % TABS.length
      : e.key === "Home" ? 0
      : e.key === "End" ? TABS.length - 1
      : -1; // prettier-ignore
    if (to < 0) return;
    e.preventDefault();
    const next = TABS[to]!.key;
    choose(next);
    document.getElementById(tabId(next))?.focus();
  }

  return (
    <section className={section} aria-labelledby={`${id}-h`} data-testid="compliance">
      <h2 id={`${id}-h`} className={heading}>
        Compliance archive
      </h2>
      <div role="tablist" aria-label="Compliance archive" onKeyDown={onKeyDown} className="mb-4 inline-flex flex-wrap gap-1 rounded-lg bg-ink-950 p-1 text-sm">
        {TABS.map((t) => (
          <button
            key={t.key}
            id={tabId(t.key)}
            type="button"
            role="tab"
            aria-selected={tab === t.key}
            aria-controls={`${id}-${t.key}`}
            tabIndex={tab === t.key ? 0 : -1}
            onClick={() => choose(t.key)}
            className={`rounded-md px-3 py-1.5 font-medium transition focus-ring ${tab === t.key ? "bg-ink-700 text-ink-100" : "text-ink-400 hover:text-ink-200"}`}
          >
            {t.name}
          </button>
        ))}
      </div>
      {TABS.map(({ key, Panel }) => (
        <div key={key} id={`${id}-${key}`} role="tabpanel" aria-labelledby={tabId(key)} tabIndex={0} hidden={tab !== key} className="focus-ring rounded-md" data-testid={`compliance-${key}`}>
          {opened.has(key) && <Panel />}
        </div>
      ))}
    </section>
  );
}
