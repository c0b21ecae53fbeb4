const PALETTE = ["#38bdf8", "#22c55e", "#f5b544", "#a78bfa", "#f472b6", "#2dd4bf", "#fb923c", "#60a5fa"];

export function colorFor(name: string): string {
  let h = 0;
  for (const ch of name.toLowerCase()) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

export function Avatar({ name, bot = false, size = "h-9 w-9" }: { name: string; bot?: boolean; size?: string }) {
  if (bot) {
    return (
      <div className={`${size} grid shrink-0 place-items-center rounded-lg bg-up/15 text-up ring-1 ring-up/30`} aria-hidden="true">
        <svg viewBox="0 0 24 24" className="h-5 w-5" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
          <path d="M3 17l6-6 4 4 8-8" />
          <path d="M14 7h7v7" />
        </svg>
      </div>
    );
  }
  const c = colorFor(name);
  return (
    <div
      className={`${size} grid shrink-0 place-items-center rounded-lg text-sm font-semibold uppercase`}
      style={{ backgroundColor: `${c}22`, color: c, boxShadow: `inset 0 0 0 1px ${c}44` }}
      aria-hidden="true"
    >
      {[...name][0] ?? "?"}
    </div>
  );
}
