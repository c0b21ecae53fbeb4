import { describe, expect, it } from "vitest";
import { channelScope, exportError, exportSize, formatBytes, headsJson, holdScope, parseNames, progressText, shortChain, upsertJob } from "./compliance";
import type { ExportJob } from "./types";

const job = (over: Partial<ExportJob> = {}): ExportJob => ({
  id: "x1",
  status: "running",
  format: "jsonl",
  from: "2026-03-01",
  to: "2026-03-02",
  progress: { events: 0, channels_done: 0, channels: 0 },
  created_by: "root",
  created_at: "2026-03-02T14:00:00Z",
  ...over,
});

describe("compliance helpers", () => {
  it("reads a typed list of names: commas or spaces, sigils dropped, each once", () => {
    expect(parseNames(" #desk, general ,, #Desk  ideas", "#")).toEqual(["desk", "general", "ideas"]);
    expect(parseNames("@bob carol", "@")).toEqual(["bob", "carol"]);
    expect(parseNames("  ", "#")).toEqual([]);
  });

  it("shortens a chain to its ends and publishes heads with when they were read", () => {
    const chain = "ab".repeat(32);
    expect(shortChain(chain)).toBe("abababababab…abab");
    expect(shortChain("0")).toBe("0");
    const at = new Date("2026-03-02T14:00:00Z");
    expect(JSON.parse(headsJson([{ name: "desk", last_seq: 3, chain }], at))).toEqual({
      as_of: "2026-03-02T14:00:00.000Z",
      channels: [{ name: "desk", last_seq: 3, chain }],
    });
  });

  it("says how far an export got and why it failed", () => {
    expect(progressText(job({ progress: { events: 12345, channels_done: 1, channels: 3 } }))).toBe("12,345 events · 1 of 3 channels");
    expect(progressText(job({ progress: { events: 1, channels_done: 1, channels: 1 } }))).toBe("1 event · 1 of 1 channel");
    expect(progressText(job({ progress: { events: 40, channels_done: 0, channels: 0 } }))).toBe("40 events");
    expect(exportError(job())).toBeNull();
    expect(exportError(job({ status: "failed", error: "disk full" }))).toBe("disk full");
    expect(exportError(job({ status: "failed", error: "interrupted" }))).toBe("Interrupted: its server stopped before it finished. Start it again.");
    expect(exportError(job({ status: "failed" }))).toBe("The export failed.");
    expect(exportSize(job())).toBeNull();
    expect(exportSize(job({ status: "done", files: 3, size: 2149 }))).toBe("3 files · 2.1 kB");
    expect(exportSize(job({ status: "done", files: 1, size: 140_250_000 }))).toBe("1 file · 140 MB");
    expect([formatBytes(812), formatBytes(1000), formatBytes(12_345_678)]).toEqual(["812 B", "1.0 kB", "12.3 MB"]);
  });

  it("names what a job or a hold covers, everything when nothing is named", () => {
    expect(channelScope(["desk", "general"])).toBe("#desk, #general");
    expect(channelScope(null)).toBe("every channel");
    expect(holdScope({ name: "h", channels: ["desk"], users: ["bob"] })).toBe("#desk, @bob");
    expect(holdScope({ name: "h", channels: [], users: null })).toBe("everything");
  });

  it("keeps a job's place when it is read again, a new one first", () => {
    const list = [job({ id: "b" }), job({ id: "a" })];
    expect(upsertJob(list, job({ id: "a", status: "done" })).map((j) => [j.id, j.status])).toEqual([
      ["b", "running"],
      ["a", "done"],
    ]);
    expect(upsertJob(list, job({ id: "c" })).map((j) => j.id)).toEqual(["c", "b", "a"]);
  });
});
