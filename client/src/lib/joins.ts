/**
 * Joining channels for the client: what to join after a connect, one join on the wire per channel
 * (a send racing its channel's join waits for it), and what a join's answer does to the state. Split
 * from chatClient.ts to keep that file to the connection; JoinQueue (joinPlan.ts) paces the joins.
 */
import type { ChatAction, ChatState } from "./chatState";
import { fillChanges } from "./catchUp";
import { backgroundJoins, JoinQueue, type JoinOutcome } from "./joinPlan";
import { revOf } from "./messages";
import { readMarksOf } from "./readMarks";
import type { Ack, JoinAck } from "./types";

/** What joining needs of the client: its state and socket, and what it does with a refused or partial join. */
export interface JoinsHost {
  chat(): ChatState;
  emitJoin(payload: { channel: string; after?: number }): Promise<Ack<JoinAck>>;
  dispatch(action: ChatAction): void;
  /** The channel as the user knows it ("#name", or the DM's other user). */
  label(channel: string): string;
  /** The channel leaves the list, `why` shown until dismissed. */
  lose(channel: string, why: string | null): void;
  notice(text: string): void;
  /** The archive is behind: catch the channel up a little later (catchUp.ts). */
  catchUpLater(channel: string): void;
  /** Tell the server how far the channel is read (readSender.ts). */
  sendRead(channel: string): void;
}

export class Joins {
  /** Joins a few at a time, the open channel first, refused ones retried later (joinPlan.ts). */
  private readonly queue = new JoinQueue((channel) => this.joinIfNeeded(channel));
  /** Channels the user opened this session: joined again after a reconnect, whatever the background cap. */
  private readonly opened = new Set<string>();
  /** Joins on the wire: a second ask for the same channel (a send racing its join) waits for the first. */
  private readonly joining = new Map<string, Promise<JoinOutcome>>();

  constructor(private readonly host: JoinsHost) {}

  /** Ask for a join through the queue; `urgent` goes before the background ones. */
  request(channel: string, urgent = false): void {
    this.queue.request(channel, urgent);
  }

  /** The user opened the channel: joined at once when `connected` (else the connect joins it first), and after every reconnect. */
  open(channel: string, connected: boolean): void {
    this.opened.add(channel);
    if (connected) this.queue.request(channel, true);
  }

  /** The channel went (deleted, or out of reach): no join for it, now or after a reconnect. */
  forget(channel: string): void {
    this.queue.forget(channel);
    this.opened.delete(channel);
  }

  /** The connection went: the next one plans its joins anew. */
  clear(): void {
    this.queue.clear();
  }

  /** Connected (again), the channel list as fresh as it could be had: ask for the joins. */
  rejoinAll(): void {
    const { channels, current: cur } = this.host.chat();
    const names = channels.map((c) => c.name);
    // The open channel first, so what the user looks at catches up first; then those opened this session
    // and a few more (those read before first); any other channel only when opened.
    if (cur) this.queue.request(cur, true);
    for (const name of names) if (name !== cur && this.opened.has(name)) this.queue.request(name);
    for (const name of backgroundJoins(names, cur, readMarksOf(this.host.chat()))) this.queue.request(name);
  }

  joinedOrPending(): number {
    const joined = Object.values(this.host.chat().byChannel).filter((c) => c.joined).length;
    return joined + this.queue.pending().length;
  }

  /** A queued join: skipped when the channel is joined already (opened twice, say). */
  async joinIfNeeded(channel: string): Promise<JoinOutcome> {
    if (this.host.chat().byChannel[channel]?.joined) return "ok";
    return this.join(channel);
  }

  /** Join (or re-join) a channel, asking only for what we have not seen (new and changed messages). */
  join(channel: string): Promise<JoinOutcome> {
    const inFlight = this.joining.get(channel);
    if (inFlight) return inFlight;
    const joining = this.joinNow(channel).finally(() => this.joining.delete(channel));
    this.joining.set(channel, joining);
    return joining;
  }

  private async joinNow(channel: string): Promise<JoinOutcome> {
    const synced = this.host.chat().byChannel[channel]?.seq.synced ?? 0;
    const after = synced > 0 ? synced : undefined;
    const payload = after !== undefined ? { channel, after } : { channel };
    const ack = await this.host.emitJoin(payload);
    if (!ack.ok) {
      // rate_limited: the server is pacing a client joining many channels; asked again later, quietly
      if (ack.error.code === "rate_limited") return "retry";
      // Out of reach: banned, or a private channel one was taken out of while away.
      // Said when the user opened it; a background join (a public channel one is banned from is
      // still listed) goes quietly, not at every reconnect.
      if (ack.error.code === "banned" || ack.error.code === "channel_not_found") {
        const label = this.host.label(channel);
        const why = ack.error.code === "banned" ? `You are banned from ${label}.` : `${label} is no longer available to you.`;
        this.host.lose(channel, this.host.chat().current === channel ? why : null);
        return "failed";
      }
      if (ack.error.code !== "offline") this.host.notice(`Could not join #${channel}: ${ack.error.message}`);
      if (ack.error.code === "history_catching_up") this.host.catchUpLater(channel);
      return "failed";
    }
    // A catch-up answers every message changed after `after`, the oldest changes first; cut short
    // (`has_more`, or, from a server that does not say, its newest change older than the channel's
    // last seq), REST pages fill in the rest from its newest change on.
    const newest = ack.messages.reduce((n, m) => Math.max(n, revOf(m)), after ?? 0);
    const complete =
      after === undefined ||
      (ack.has_more !== undefined ? !ack.has_more : ack.messages.length === 0 || newest >= ack.last_seq);
    this.host.dispatch({ type: "joined", ack, after, complete });
    // A channel that appeared live: the server is told where the user first saw it, or it would take
    // the first time it lists the channel for that (a public one counts as read up to then) and what
    // came in between, mentions included, would no longer be unread.
    if (this.host.chat().read[channel]?.stored === null) this.host.sendRead(channel);
    if (!complete) await fillChanges(channel, newest, ack.last_seq, (action) => this.host.dispatch(action));
    return "ok";
  }
}
