/**
 * Catching a channel up on what it missed: a gap in its seq stream joins it again (one catch-up at a
 * time per channel, again if a gap came during it, later if the archive is behind), and a catch-up the
 * join cut short is filled in from REST pages.
 */
import { api } from "./api";
import type { ChatAction } from "./chatState";
import type { JoinOutcome } from "./joinPlan";
import { revOf } from "./messages";

/** After `history_catching_up` (the archive is behind; the messages exist), ask again this much later. */
export const CATCH_UP_RETRY_MS = 3_000;

/** What catching up needs of the client: its join (which asks only for what is missing), and whether it has stopped. */
export interface CatchUpHost {
  join(channel: string): Promise<JoinOutcome>;
  stopped(): boolean;
}

export class CatchUps {
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  /** Channels with a catch-up retry pending (one each, however many gaps asked while the archive was behind). */
  private readonly retrying = new Set<string>();

  constructor(private readonly host: CatchUpHost) {}

  retryLater(channel: string): void {
    if (this.retrying.has(channel)) return;
    this.retrying.add(channel);
    setTimeout(() => {
      this.retrying.delete(channel);
      if (!this.host.stopped()) void this.run(channel);
    }, CATCH_UP_RETRY_MS);
  }

  async run(channel: string): Promise<void> {
    if (this.running.has(channel)) {
      // A gap seen during a catch-up may lie past what that join returns: go again after it.
      this.again.add(channel);
      return;
    }
    this.running.add(channel);
    try {
      do {
        this.again.delete(channel);
        if ((await this.host.join(channel)) === "retry") this.retryLater(channel);
      } while (this.again.has(channel));
    } finally {
      this.running.delete(channel);
    }
  }
}

/**
 * Page `changed_after` until the server has no more: every message whose rev is above `from`
 * (new and changed ones), each page on from the highest rev it returned. Then the channel is
 * known up to `target`. A failure leaves it short of that, for the next gap or reconnect.
 */
export async function fillChanges(
  channel: string,
  from: number,
  target: number,
  dispatch: (action: ChatAction) => void,
): Promise<void> {
  let after = from;
  for (let guard = 0; guard < 50; guard++) {
    let page;
    try {
      page = await api.changes(channel, after, 200);
    } catch {
      return;
    }
    const newest = page.messages.reduce((n, m) => Math.max(n, revOf(m)), after);
    const done = !page.has_more || newest <= after;
    dispatch({ type: "changes", channel, messages: page.messages, lastSeq: done ? target : undefined });
    if (done) return;
    after = newest;
  }
}
