/** SVG path for a price sparkline from decimal-string series. */

export interface SparklineGeometry {
  path: string;
  /** Closed area under the line, for a soft fill. */
  area: string;
  min: number;
  max: number;
  points: Array<[number, number]>;
}

const r = (n: number) => (Math.round(n * 100) / 100).toString();

/**
 * Fit `series` into a width x height box (with `pad` inside the edges), y growing downwards.
 * Returns null when fewer than two usable points exist. A flat series draws a middle line.
 * Floats are fine here: this is geometry, not money.
 */
export function sparkline(
  series: readonly (string | number)[],
  width: number,
  height: number,
  pad = 2,
): SparklineGeometry | null {
  const values = series.map((v) => (typeof v === "number" ? v : Number.parseFloat(v))).filter(Number.isFinite);
  if (values.length < 2) return null;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const innerW = width - 2 * pad;
  const innerH = height - 2 * pad;
  const step = innerW / (values.length - 1);
  const points = values.map((v, i): [number, number] => {
    const x = pad + i * step;
    const y = max === min ? pad + innerH / 2 : pad + ((max - v) / (max - min)) * innerH;
    return [x, y];
  });
  const path = points.map(([x, y], i) => `${i === 0 ? "M" : "L"}${r(x)},${r(y)}`).join(" ");
  const area = `${path} L${r(points[points.length - 1]![0])},${r(height)} L${r(points[0]![0])},${r(height)} Z`;
  return { path, area, min, max, points };
}

/** Convenience: just the line path, or "" when nothing can be drawn. */
export function sparklinePath(series: readonly (string | number)[], width: number, height: number, pad = 2): string {
  return sparkline(series, width, height, pad)?.path ?? "";
}
