/**
 * The notifications inbox: its state, and how live notifications and pages of
 * GET /api/me/notifications merge into it. Each change answers the same inbox when nothing changed.
 */
import type { ChatNotification } from "./types";

/** The notifications inbox: pages loaded from GET /api/me/notifications and live ones before them. */
export interface InboxState {
  /** Newest first. */
  items: ChatNotification[];
  /** Where the next page starts; null at the end. */
  nextBefore: string | null;
  /** The first page has been loaded. */
  loaded: boolean;
  /** Live notifications since the inbox was last looked at: the bell's count and the tab title's. */
  unseen: number;
  /** Open on screen (what arrives while the page is visible is seen at once). */
  open: boolean;
}

export const emptyInbox = (): InboxState => ({ items: [], nextBefore: null, loaded: false, unseen: 0, open: false });

/** A live notification on top, counted as unseen unless `seen`; one held already changes nothing. */
export function withNotification(inbox: InboxState, n: ChatNotification, seen: boolean): InboxState {
  if (inbox.items.some((i) => i.id === n.id)) return inbox;
  return { ...inbox, items: [n, ...inbox.items], unseen: seen ? 0 : inbox.unseen + 1 };
}

/** A page of the inbox; `more`: it follows the pages held, else it is the first. */
export function withPage(inbox: InboxState, notifications: ChatNotification[], nextBefore: string | null, more: boolean): InboxState {
  // Ids order the inbox (ms-ordered): live ones and pages merge by id, newest first.
  const byId = new Map(inbox.items.map((i) => [i.id, i]));
  for (const n of notifications) byId.set(n.id, n);
  const items = [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  // The first page again (after a reconnect) leaves the older pages held where they were.
  const next = more || !inbox.loaded ? nextBefore : inbox.nextBefore;
  return { ...inbox, items, nextBefore: next, loaded: true };
}

/** Opened (what it holds is seen) or closed. */
export function withOpen(inbox: InboxState, open: boolean): InboxState {
  if (open === inbox.open && (!open || !inbox.unseen)) return inbox;
  return { ...inbox, open, unseen: open ? 0 : inbox.unseen };
}

/** The page is back in sight: an inbox left open has been seen. */
export function seenOnReturn(inbox: InboxState): InboxState {
  return inbox.open && inbox.unseen ? { ...inbox, unseen: 0 } : inbox;
}
