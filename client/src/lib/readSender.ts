/**
 * Tells the server how far each channel is read (`read`), throttled per channel: the mark moves with
 * every message seen in the open channel, and the server needs only the latest of a burst.
 */
import type { ChatAction, ChatState } from "./chatState";
import type { Ack, ReadMark } from "./types";

/** `read` goes at most this often per channel, however fast messages come in the one being read. */
export const READ_THROTTLE_MS = 1_000;

/** What the sender needs of the client: its state, its socket, and a way to record the server's answer. */
export interface ReadSenderHost {
  chat(): ChatState;
  connected(): boolean;
  emitRead(channel: string, seq: number): Promise<Ack<ReadMark>>;
  dispatch(action: ChatAction): void;
}

export class ReadSender {
  /** Per channel: when `read` last went, the highest seq it carried, and the later one waiting for its turn. */
  private readonly sentAt = new Map<string, number>();
  private readonly sent = new Map<string, number>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(private readonly host: ReadSenderHost) {}

  /**
   * Tell the server how far the open channel is read, when that moved past what it holds: at once, or,
   * within READ_THROTTLE_MS of the last one, when that time is up (with the mark as it is by then).
   */
  soon(): void {
    const { current, visible } = this.host.chat();
    if (!current || !visible || !this.host.connected() || this.timers.has(current)) return;
    if (!this.ahead(current)) return;
    const wait = (this.sentAt.get(current) ?? -Infinity) + READ_THROTTLE_MS - Date.now();
    if (wait <= 0) {
      void this.send(current);
      return;
    }
    this.timers.set(
      current,
      setTimeout(() => {
        this.timers.delete(current);
        void this.send(current);
      }, wait),
    );
  }

  /** The mark here is past what the server holds (or it holds none) and what was last sent. */
  private ahead(channel: string): boolean {
    const r = this.host.chat().read[channel];
    return !!r && r.seq > Math.max(r.stored ?? -1, this.sent.get(channel) ?? -1);
  }

  async send(channel: string): Promise<void> {
    if (this.stopped || !this.ahead(channel)) return;
    const seq = this.host.chat().read[channel]!.seq;
    this.sentAt.set(channel, Date.now());
    this.sent.set(channel, seq);
    const ack = await this.host.emitRead(channel, seq);
    if (ack.ok) this.host.dispatch({ type: "read_state", channel, seq: typeof ack.seq === "number" ? ack.seq : seq });
    // Not taken (offline, say): sent again when the mark next moves, or after the reconnect's list.
    else if (this.sent.get(channel) === seq) this.sent.delete(channel);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
