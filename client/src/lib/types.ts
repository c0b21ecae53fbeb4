/** Wire types of the REST and Socket.IO contract (docs/protocol.md). */

export interface Quote {
  symbol: string;
  name?: string | null;
  price: string;
  /** An ISO currency ("USD") or a unit ("GBX", "points"). */
  currency: string;
  change?: string | null;
  change_pct?: string | null;
  /** UTC, ISO 8601. */
  as_of: string;
  /** "open" | "pre-market" | "after-hours" | "closed" (older servers: provider words). */
  market_state: string;
  source: string;
  series: string[];
  /** The exchange's IANA time zone. */
  exchange_tz?: string | null;
  /** `as_of` in the exchange's own zone, ISO 8601 with its offset. */
  as_of_local?: string | null;
  /** Older than one trading session of its market. */
  stale?: boolean;
}

/** GET /api/quotes?symbols=… */
export interface QuotesResponse {
  quotes: Quote[];
  errors: { symbol: string; code: string; message: string }[];
  /** requested code -> the `symbol` of its quote. */
  resolved: Record<string, string>;
}

/** A cashtag's price when its message was posted, stamped by the server (docs/protocol.md). */
export interface PriceStamp {
  /** The cashtag's code as written, upper-cased: "AAPL". */
  code: string;
  symbol: string;
  price: string;
  currency: string;
  as_of: string;
}

export interface Message {
  id?: string;
  channel: string;
  /** Absent on ephemeral messages, which are never stored. */
  seq?: number;
  user: string;
  text: string;
  ts: string;
  bot?: boolean;
  ephemeral?: boolean;
  quote?: Quote | null;
  /** Every quote of a several-code bot reply; `quote` is the first. */
  quotes?: Quote[] | null;
  /** Its cashtags' prices at posting, where the server had them. */
  stamps?: PriceStamp[] | null;
  /** The seq of its latest change (edit, delete, reaction, pin); equal to `seq` when never changed. */
  rev?: number;
  /** When it was last edited (ISO 8601). */
  edited_at?: string | null;
  /** A tombstone: text "", no reactions, never edited again; keeps its id, seq and user. */
  deleted?: boolean;
  /** The id of the thread's root message (same channel) when this is a reply. */
  reply_to?: string | null;
  /** On a thread's root: how many replies it has. */
  reply_count?: number;
  reactions?: Reaction[] | null;
  pinned?: boolean;
}

export interface Reaction {
  emoji: string;
  count: number;
  users: string[];
}

export type UpdateKind = "edit" | "delete" | "react" | "unreact" | "pin" | "unpin";

/** `message_updated`: a change to a message, with the change's own seq (= the message's new rev). */
export interface MessageUpdate {
  channel: string;
  seq: number;
  kind: UpdateKind;
  by: string;
  message: Message;
}

/** Ack of edit / delete / react / unreact / pin / unpin. */
export interface UpdateAck {
  message?: Message;
}

export interface Channel {
  name: string;
  created_by: string;
  created_at: string;
}

export interface ErrorBody {
  code: string;
  message: string;
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ErrorBody };

export interface JoinAck {
  channel: string;
  messages: Message[];
  last_seq: number;
  members: string[];
  /** A catch-up (`after`) cut short at the server's limit: page on with REST `changed_after`. */
  has_more?: boolean;
}

export interface SendAck {
  message?: Message;
  command?: string;
}

export interface HistoryPage {
  messages: Message[];
  has_more: boolean;
}
