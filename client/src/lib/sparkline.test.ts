import { describe, expect, it } from "vitest";
import { sparkline, sparklinePath } from "./sparkline";

describe("sparklinePath", () => {
  it("maps the highest value to the top and the lowest to the bottom", () => {
    expect(sparklinePath(["1", "3", "2"], 100, 20, 0)).toBe("M0,20 L50,0 L100,10");
  });
  it("respects padding", () => {
    expect(sparklinePath(["10", "20"], 104, 24, 2)).toBe("M2,22 L102,2");
  });
  it("draws a flat series through the middle", () => {
    expect(sparklinePath(["5.00", "5.00", "5.00"], 10, 10, 0)).toBe("M0,5 L5,5 L10,5");
  });
  it("skips values that are not numbers and needs two points", () => {
    expect(sparklinePath(["1", "oops", "2"], 10, 10, 0)).toBe("M0,10 L10,0");
    expect(sparklinePath(["1"], 10, 10)).toBe("");
    expect(sparklinePath([], 10, 10)).toBe("");
  });
  it("rounds coordinates to two decimals", () => {
    expect(sparklinePath(["0", "1", "0", "2"], 10, 10, 0)).toBe("M0,10 L3.33,5 L6.67,10 L10,0");
  });
  it("handles decimal strings exactly enough for drawing", () => {
    const g = sparkline(["189.10", "190.25", "188.75"], 60, 20, 0)!;
    expect(g.min).toBe(188.75);
    expect(g.max).toBe(190.25);
    expect(g.area.endsWith("L60,20 L0,20 Z")).toBe(true);
  });
});
