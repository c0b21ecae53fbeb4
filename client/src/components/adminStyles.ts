/** The administration page's shared look: its panels, fields and buttons, and how a failure reads. */

export const section = "rounded-xl border border-ink-700 bg-ink-850 p-4";
export const heading = "mb-3 text-base font-semibold";
export const label = "mb-1 block text-xs font-medium text-ink-300";
export const field = "rounded-md border border-ink-450 bg-ink-950 px-2 py-1.5 text-sm focus-ring";
export const primary = "rounded-md bg-accent px-3 py-1.5 text-sm font-semibold text-ink-950 disabled:opacity-50 focus-ring";
export const small = "rounded-md border border-ink-600 px-2 py-0.5 text-xs text-ink-200 hover:bg-ink-700 disabled:opacity-50 focus-ring";
export const danger = "rounded-md bg-down px-2.5 py-0.5 text-xs font-semibold text-ink-950 aria-disabled:opacity-60 focus-ring";

export const errorText = (e: unknown, fallback: string): string => (e instanceof Error ? e.message : fallback);
