/** How the audit log reads to people: each action's name in words, and its details as short "key: value" pairs. */
import type { AuditEntry } from "./types";

/** By action, with "." read as "_" (actions are dotted: "role.grant", "hold.placed"). Unknown ones show as sent. */
const LABELS: Record<string, string> = {
  role_grant: "Role granted",
  role_revoke: "Role revoked",
  user_suspend: "User suspended",
  user_unsuspend: "Suspension lifted",
  invite_create: "Invite created",
  channel_member_added: "Member added",
  channel_role_changed: "Channel role changed",
  channel_member_removed: "Member removed",
  channel_muted: "Muted",
  channel_unmuted: "Unmuted",
  channel_banned: "Banned",
  channel_unbanned: "Unbanned",
  channel_settings_changed: "Channel settings changed",
  channel_deleted: "Channel deleted",
  export_requested: "Export requested",
  export_done: "Export finished",
  export_failed: "Export failed",
  export_downloaded: "Export downloaded",
  hold_placed: "Legal hold placed",
  hold_released: "Legal hold released",
  retention_changed: "Retention changed",
  retention_run: "Retention run",
};

export function actionLabel(action: string): string {
  return LABELS[action.replaceAll(".", "_")] ?? action;
}

/** Keys whose plain name would mislead or puzzle. */
const KEY_LABELS: Record<string, string> = {
  retention_days: "retention (days)",
  default_days: "default retention (days)",
  previous: "was",
  id: "job",
  redacted: "entries redacted",
  held: "entries kept under a hold",
  held_channels: "channels under a hold",
  by_channel: "by channel",
  now: "as of",
  size: "size (bytes)",
  manifest: "manifest sha256",
};

function valueText(v: unknown): string {
  if (Array.isArray(v)) return v.length ? v.map(valueText).join(", ") : "none";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number") return v.toLocaleString("en-US");
  if (typeof v === "string") return v;
  if (v !== null && typeof v === "object") {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} ${valueText(x)}`)
      .join(", ");
  }
  return "none";
}

/** An entry's details in the order sent, each as a label and its value in words. */
export function detailPairs(entry: Pick<AuditEntry, "details">): { key: string; label: string; value: string }[] {
  return Object.entries(entry.details ?? {}).map(([key, v]) => ({
    key,
    label: KEY_LABELS[key] ?? key.replaceAll("_", " "),
    // A retention of no days set is no limit.
    value: v === null && key.endsWith("days") ? "forever" : valueText(v),
  }));
}
