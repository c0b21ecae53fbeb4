/** Trade ideas on screen: the return since posting (exact, on decimal strings), outcome words, the price bar's layout. */
import { percentSince } from "./format";
import type { Idea, IdeaSide, IdeaStatus } from "./types";

export const OUTCOME_LABEL: Record<Exclude<IdeaStatus, "open">, string> = {
  target_hit: "Target hit",
  stopped: "Stopped",
  expired: "Expired",
};

/** "Open", or how the idea ended. */
export function statusLabel(status: IdeaStatus): string {
  return status === "open" ? "Open" : OUTCOME_LABEL[status];
}

export const SIDE_LABEL: Record<IdeaSide, string> = { long: "Long", short: "Short" };

/** "1.20" -> "-1.20", "-1.20" -> "1.20"; zero stays unsigned. */
function negated(pct: string): string {
  if (pct.startsWith("-")) return pct.slice(1);
  return /[1-9]/.test(pct) ? `-${pct}` : pct;
}

/**
 * What the idea has earned at `price`, in percent of the entry with two places ("1.69", "-0.40"): a
 * long gains as the price rises, a short as it falls. Worked out on exact decimals; null when a price
 * is not a number.
 */
export function ideaReturn(side: IdeaSide, entry: string, price: string): string | null {
  const pct = percentSince(entry, price);
  if (pct === null) return null;
  return side === "long" ? pct : negated(pct);
}

export type MarkKind = "stop" | "entry" | "target" | "now" | "exit";

export interface BarMark {
  kind: MarkKind;
  price: string;
  /** Where on the bar, 0 (lowest price) to 100 (highest), in percent of its width. */
  at: number;
}

export interface BarLayout {
  marks: BarMark[];
  /** The losing stretch (entry to stop) and the winning one (entry to target), in percent of the width. */
  loss: { from: number; to: number } | null;
  gain: { from: number; to: number } | null;
}

/**
 * The idea's levels on one line from the lowest price to the highest: stop, entry, target and the
 * price now (or the exit, once closed). Floats are fine here: this is geometry, not money.
 */
export function ideaBar(idea: Idea, price: string | null): BarLayout {
  const levels: Array<[MarkKind, string]> = [["entry", idea.entry]];
  if (idea.stop) levels.push(["stop", idea.stop]);
  if (idea.target) levels.push(["target", idea.target]);
  const moving: MarkKind = idea.status === "open" ? "now" : "exit";
  const last = idea.status === "open" ? price : (idea.exit ?? null);
  if (last) levels.push([moving, last]);
  const values = levels.map(([, p]) => Number.parseFloat(p)).filter(Number.isFinite);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const place = (p: string) => (hi === lo ? 50 : ((Number.parseFloat(p) - lo) / (hi - lo)) * 100);
  const marks = levels.filter(([, p]) => Number.isFinite(Number.parseFloat(p))).map(([kind, p]) => ({ kind, price: p, at: place(p) }));
  const span = (a: string | null | undefined) => {
    if (!a) return null;
    const x = place(idea.entry);
    const y = place(a);
    return { from: Math.min(x, y), to: Math.max(x, y) };
  };
  return { marks, loss: span(idea.stop), gain: span(idea.target) };
}
