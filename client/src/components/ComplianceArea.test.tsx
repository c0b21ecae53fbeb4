// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ExportJob, LegalHold } from "../lib/types";
import { fakeFetch, type Call } from "../testing/fakeFetch";
import { ComplianceArea } from "./ComplianceArea";
import { EXPORT_POLL_MS } from "./ExportJobs";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const CHAIN = "3f9a0c7be21d44aa" + "0".repeat(44) + "be9d";
const HEADS = [
  { name: "desk", last_seq: 57, chain: CHAIN, first_seq: 41 },
  { name: "general", last_seq: 1234, chain: "c".repeat(64) },
];
const job = (over: Partial<ExportJob> = {}): ExportJob => ({
  id: "x1",
  status: "running",
  format: "eml",
  from: "2026-03-01",
  to: "2026-03-02",
  channels: ["desk", "general"],
  progress: { events: 0, channels_done: 0, channels: 2 },
  created_by: "root",
  created_at: "2026-03-02T14:00:00Z",
  ...over,
});
const MANIFEST = "9d4e1f00aa55" + "7".repeat(48) + "c0de";
const HOLD: LegalHold = { name: "everything-2025", channels: null, users: null, reason: "FINRA exam", created_by: "root", created_at: "2026-03-01T09:00:00Z" };

function setup(routes: Record<string, unknown> = {}) {
  const calls = fakeFetch({
    "GET /api/admin/archive/heads": { channels: HEADS },
    "GET /api/admin/exports": { exports: [] },
    "GET /api/admin/holds": { holds: [HOLD] },
    ...routes,
  });
  const user = userEvent.setup();
  render(<ComplianceArea />);
  return { calls, user };
}
const sent = (calls: Call[]) => calls.filter((c) => c.method !== "GET").map((c) => [c.method, c.path, c.body]);
const reads = (calls: Call[], path: string) => calls.filter((c) => c.method === "GET" && c.path === path).length;

async function openTab(user: ReturnType<typeof userEvent.setup>, name: string) {
  await user.click(screen.getByRole("tab", { name }));
  return screen.getByRole("tabpanel", { name });
}

async function setDate(user: ReturnType<typeof userEvent.setup>, field: HTMLElement, day: string) {
  await user.clear(field);
  await user.type(field, day);
}

describe("ComplianceArea: chain heads", () => {
  it("shows each channel's last seq and chain, shortened, with the whole chain to copy", async () => {
    const { user } = setup();
    const panel = screen.getByRole("tabpanel", { name: "Chain heads" });
    const table = await within(panel).findByRole("table", { name: "Chain heads" });
    const rows = within(table).getAllByTestId("chain-head");
    expect(rows.map((r) => r.dataset.channel)).toEqual(["desk", "general"]);
    expect(within(rows[0]!).getByText("#desk")).toBeTruthy();
    expect(within(rows[1]!).getByText("1234")).toBeTruthy();
    // a journal begun after the records archived before it existed says where, one from seq 1 says nothing
    expect(within(rows[0]!).getByText("journaled from 41")).toBeTruthy();
    expect(within(rows[1]!).queryByText(/journaled from/)).toBeNull();
    const chain = within(rows[0]!).getByTestId("chain");
    expect(chain.textContent).toBe("3f9a0c7be21d…be9d");
    expect(chain.getAttribute("title")).toBe(CHAIN);
    await user.click(within(panel).getByRole("button", { name: "Copy the chain of #desk" }));
    expect(await navigator.clipboard.readText()).toBe(CHAIN);
    expect(within(panel).getByRole("status").textContent).toBe("Copied the chain of #desk.");
  });

  it("copies every head as JSON, to publish the day's heads", async () => {
    const { user } = setup();
    const panel = screen.getByRole("tabpanel", { name: "Chain heads" });
    await within(panel).findAllByTestId("chain-head");
    await user.click(within(panel).getByRole("button", { name: "Copy all as JSON" }));
    const published = JSON.parse(await navigator.clipboard.readText()) as { as_of: string; channels: unknown };
    expect(published.channels).toEqual(HEADS);
    expect(Number.isNaN(Date.parse(published.as_of))).toBe(false);
    expect(within(panel).getByRole("status").textContent).toBe("Copied every head as JSON.");
  });

  it("says when nothing is archived yet, and shows a refusal", async () => {
    setup({ "GET /api/admin/archive/heads": { channels: [] } });
    expect(await screen.findByText("No channel has archived events yet.")).toBeTruthy();
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Copy all as JSON" }).disabled).toBe(true);
    cleanup();
    setup({ "GET /api/admin/archive/heads": { status: 403, error: { code: "forbidden", message: "Admins and compliance only" } } });
    expect((await screen.findByRole("alert")).textContent).toBe("Admins and compliance only");
  });
});

describe("ComplianceArea: tabs", () => {
  it("moves between tabs by arrow keys, Home and End, opening each panel once and keeping it", async () => {
    const { calls, user } = setup();
    await screen.findAllByTestId("chain-head");
    expect(reads(calls, "/api/admin/exports")).toBe(0); // not read until looked at
    await user.click(screen.getByRole("tab", { name: "Chain heads" }));
    await user.keyboard("{ArrowRight}");
    expect(document.activeElement).toBe(screen.getByRole("tab", { name: "Exports" }));
    expect(screen.getByRole("tab", { name: "Exports" }).getAttribute("aria-selected")).toBe("true");
    expect(screen.getByRole("tabpanel", { name: "Exports" })).toBeTruthy();
    expect(screen.queryByRole("tabpanel", { name: "Chain heads" })).toBeNull(); // hidden
    await user.keyboard("{End}");
    expect(document.activeElement).toBe(screen.getByRole("tab", { name: "Legal holds" }));
    await screen.findByTestId("legal-hold");
    await user.keyboard("{ArrowRight}{ArrowLeft}{Home}");
    expect(document.activeElement).toBe(screen.getByRole("tab", { name: "Chain heads" }));
    expect(screen.getAllByTestId("chain-head")).toHaveLength(2);
    // Kept, not made again: one read each.
    expect([reads(calls, "/api/admin/archive/heads"), reads(calls, "/api/admin/exports"), reads(calls, "/api/admin/holds")]).toEqual([1, 1, 1]);
    // Only the chosen tab is in the Tab order.
    expect(screen.getAllByRole("tab").map((t) => t.tabIndex)).toEqual([0, -1, -1]);
  });
});

describe("ComplianceArea: exports", () => {
  it("starts an export and follows it every 2 s to done, then offers its zip, and stops reading", async () => {
    let posted = false;
    // The server's job as each read after the start finds it.
    const stages = [
      job({ progress: { events: 120, channels_done: 1, channels: 2 } }),
      job({ status: "done", progress: { events: 300, channels_done: 2, channels: 2 }, finished_at: "2026-03-02T14:01:00Z", files: 3, size: 48_213, manifest: MANIFEST }),
    ];
    let read = 0;
    const { calls, user } = setup({
      "GET /api/admin/exports": () => ({ exports: posted ? [stages[Math.min(read++, stages.length - 1)]] : [] }),
      "POST /api/admin/exports": () => {
        posted = true;
        return job();
      },
    });
    const panel = await openTab(user, "Exports");
    expect(await within(panel).findByText("No exports yet.")).toBeTruthy();
    await setDate(user, within(panel).getByLabelText("From"), "2026-03-01");
    await setDate(user, within(panel).getByLabelText("To"), "2026-03-02");
    await user.type(within(panel).getByLabelText("Channels"), "#desk, general");
    await user.selectOptions(within(panel).getByLabelText("Format"), "Email (EML)");

    // The clock moves from here on only when the test moves it (so no user-event, which waits on real time).
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const settle = () => act(() => vi.advanceTimersByTimeAsync(0));
    fireEvent.click(within(panel).getByRole("button", { name: "Start export" }));
    await settle();
    const row = within(panel).getByTestId("export-job");
    expect(sent(calls)).toEqual([["POST", "/api/admin/exports", { from: "2026-03-01", to: "2026-03-02", format: "eml", channels: ["desk", "general"] }]]);
    expect(within(row).getByTestId("export-status").textContent).toBe("Running");
    expect(within(row).getByText("#desk, #general")).toBeTruthy();
    expect(within(row).getByText("Email (EML)")).toBeTruthy();
    expect(within(row).getByTestId("export-progress").textContent).toBe("0 events · 0 of 2 channels");
    expect(within(row).queryByRole("link")).toBeNull();

    const before = reads(calls, "/api/admin/exports");
    await act(() => vi.advanceTimersByTimeAsync(EXPORT_POLL_MS - 1));
    expect(reads(calls, "/api/admin/exports")).toBe(before);
    await act(() => vi.advanceTimersByTimeAsync(1));
    await settle();
    expect(within(row).getByTestId("export-progress").textContent).toBe("120 events · 1 of 2 channels");
    const bar = within(row).getByRole("progressbar", { name: /Progress of the export of #desk, #general/ });
    expect([bar.getAttribute("value"), bar.getAttribute("max")]).toEqual(["1", "2"]);

    await act(() => vi.advanceTimersByTimeAsync(EXPORT_POLL_MS));
    await settle();
    expect(within(row).getByTestId("export-status").textContent).toBe("Done");
    expect(within(row).getByTestId("export-progress").textContent).toBe("300 events · 2 of 2 channels");
    const link = within(row).getByRole("link", { name: "Download the export of #desk, #general, 2026-03-01 to 2026-03-02" });
    expect(link.getAttribute("href")).toBe("/api/admin/exports/x1/download");
    expect(link.hasAttribute("download")).toBe(true);
    expect(within(panel).getByRole("status").textContent).toBe("The export of #desk, #general, 2026-03-01 to 2026-03-02 is ready to download.");
    expect(within(row).getByTestId("export-size").textContent).toBe("3 files · 48.2 kB");
    expect(within(row).getByTestId("export-manifest").textContent).toBe("9d4e1f00aa55…c0de");
    expect(within(row).getByTestId("export-manifest").getAttribute("title")).toBe(MANIFEST);

    // Nothing runs: no more reads.
    const done = reads(calls, "/api/admin/exports");
    await act(() => vi.advanceTimersByTimeAsync(10 * EXPORT_POLL_MS));
    expect(reads(calls, "/api/admin/exports")).toBe(done);
  });

  it("copies a finished export's manifest checksum, to note down", async () => {
    const { user } = setup({ "GET /api/admin/exports": { exports: [job({ status: "done", files: 3, size: 900, manifest: MANIFEST }), job({ id: "x0", status: "failed", error: "interrupted" })] } });
    const panel = await openTab(user, "Exports");
    const [done, failed] = await within(panel).findAllByTestId("export-job");
    await user.click(within(done!).getByRole("button", { name: /^Copy the manifest checksum of the export of #desk, #general/ }));
    expect(await navigator.clipboard.readText()).toBe(MANIFEST);
    expect(within(panel).getByRole("status").textContent).toBe("Copied the manifest checksum.");
    expect(failed!.textContent).toContain("Interrupted: its server stopped before it finished. Start it again.");
  });

  it("shows a failed job's reason, the server's refusal of a request, and checks the dates first", async () => {
    const { calls, user } = setup({
      "GET /api/admin/exports": { exports: [job({ status: "failed", error: "disk full", channels: null })] },
      "POST /api/admin/exports": { status: 400, error: { code: "invalid_payload", message: "from: not a date" } },
    });
    const panel = await openTab(user, "Exports");
    const row = await within(panel).findByTestId("export-job");
    expect(within(row).getByTestId("export-status").textContent).toBe("Failed");
    expect(within(row).getByText("disk full")).toBeTruthy();
    expect(within(row).queryByTestId("export-size")).toBeNull();
    expect(within(row).getByText("every channel")).toBeTruthy();
    expect(within(row).queryByRole("link")).toBeNull();

    await setDate(user, within(panel).getByLabelText("From"), "2026-03-05");
    await setDate(user, within(panel).getByLabelText("To"), "2026-03-02");
    await user.click(within(panel).getByRole("button", { name: "Start export" }));
    expect(within(panel).getByRole("alert").textContent).toBe("The first day comes after the last.");
    expect(sent(calls)).toEqual([]);

    await setDate(user, within(panel).getByLabelText("To"), "2026-03-06");
    await user.click(within(panel).getByRole("button", { name: "Start export" }));
    await waitFor(() => expect(within(panel).getByRole("alert").textContent).toBe("from: not a date"));
    expect(sent(calls)).toEqual([["POST", "/api/admin/exports", { from: "2026-03-05", to: "2026-03-06", format: "jsonl" }]]);
  });
});

describe("ComplianceArea: legal holds", () => {
  it("places a hold on channels and users with a reason, and releases it after a confirm", async () => {
    const { calls, user } = setup({
      "POST /api/admin/holds": (c: Call) => ({ ...(c.body as object), created_by: "root", created_at: "2026-03-02T14:00:00Z" }),
      "DELETE /api/admin/holds/q3-audit": null,
    });
    const panel = await openTab(user, "Legal holds");
    const standing = await within(panel).findByTestId("legal-hold");
    expect(within(standing).getByTestId("hold-scope").textContent).toBe("everything");
    expect(within(standing).getByText("· FINRA exam")).toBeTruthy();

    await user.type(within(panel).getByLabelText("Name"), "q3-audit");
    await user.type(within(panel).getByLabelText("Channels"), "#desk");
    await user.type(within(panel).getByLabelText("Users"), "@bob, carol");
    await user.type(within(panel).getByLabelText("Reason"), "SEC inquiry");
    await user.click(within(panel).getByRole("button", { name: "Place hold" }));
    await waitFor(() => expect(within(panel).getAllByTestId("legal-hold").map((h) => h.dataset.name)).toEqual(["everything-2025", "q3-audit"]));
    expect(within(panel).getAllByTestId("hold-scope")[1]!.textContent).toBe("#desk, @bob, @carol");
    expect(within(panel).getByLabelText<HTMLInputElement>("Name").value).toBe("");
    expect(within(panel).getByText("Hold q3-audit placed.").getAttribute("role")).toBe("status");

    // Cancel first (by button, then by Escape): nothing sent, focus back on Release.
    const release = within(panel).getByRole("button", { name: "Release hold q3-audit" });
    await user.click(release);
    const dialog = within(panel).getByRole("alertdialog", { name: "Release hold q3-audit" });
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Yes, release" }));
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(document.activeElement).toBe(within(panel).getByRole("button", { name: "Release hold q3-audit" }));
    await user.keyboard("{Enter}");
    await user.keyboard("{Escape}");
    expect(within(panel).queryByRole("alertdialog")).toBeNull();
    expect(document.activeElement).toBe(within(panel).getByRole("button", { name: "Release hold q3-audit" }));

    await user.keyboard("{Enter}");
    await user.click(within(panel).getByRole("button", { name: "Yes, release" }));
    await waitFor(() => expect(within(panel).getAllByTestId("legal-hold").map((h) => h.dataset.name)).toEqual(["everything-2025"]));
    expect(document.activeElement).toBe(within(panel).getByRole("list", { name: "Legal holds" }));
    expect(sent(calls)).toEqual([
      ["POST", "/api/admin/holds", { name: "q3-audit", channels: ["desk"], users: ["bob", "carol"], reason: "SEC inquiry" }],
      ["DELETE", "/api/admin/holds/q3-audit", undefined],
    ]);
  });

  it("asks for a name, places a hold on everything, and shows a refused release", async () => {
    const { calls, user } = setup({
      "POST /api/admin/holds": { name: "all", created_by: "root" },
      "DELETE /api/admin/holds/everything-2025": { status: 403, error: { code: "forbidden", message: "Admins and compliance only" } },
    });
    const panel = await openTab(user, "Legal holds");
    await within(panel).findByTestId("legal-hold");
    await user.click(within(panel).getByRole("button", { name: "Place hold" }));
    expect(within(panel).getByRole("alert").textContent).toBe("Give the hold a name.");
    expect(document.activeElement).toBe(within(panel).getByLabelText("Name"));
    await user.type(within(panel).getByLabelText("Name"), "all");
    await user.click(within(panel).getByRole("button", { name: "Place hold" }));
    await waitFor(() => expect(within(panel).getAllByTestId("legal-hold")).toHaveLength(2));

    await user.click(within(panel).getByRole("button", { name: "Release hold everything-2025" }));
    await user.click(within(panel).getByRole("button", { name: "Yes, release" }));
    await waitFor(() => expect(within(panel).getByRole("alert").textContent).toBe("Admins and compliance only"));
    expect(within(panel).getAllByTestId("legal-hold")).toHaveLength(2);
    expect(sent(calls)).toEqual([
      ["POST", "/api/admin/holds", { name: "all" }],
      ["DELETE", "/api/admin/holds/everything-2025", undefined],
    ]);
  });
});

describe("ComplianceArea: accessibility", () => {
  it("has no serious findings on any tab, nor with a release to confirm", async () => {
    const serious = async () =>
      (await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } })).violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => v.id);
    const { user } = setup({ "GET /api/admin/exports": { exports: [job(), job({ id: "x2", status: "done" }), job({ id: "x3", status: "failed" })] } });
    await screen.findAllByTestId("chain-head");
    expect(await serious()).toEqual([]);
    const exportsPanel = await openTab(user, "Exports");
    await within(exportsPanel).findAllByTestId("export-job");
    expect(await serious()).toEqual([]);
    const holds = await openTab(user, "Legal holds");
    await within(holds).findByTestId("legal-hold");
    await user.click(within(holds).getByRole("button", { name: "Release hold everything-2025" }));
    expect(await serious()).toEqual([]);
  });
});
