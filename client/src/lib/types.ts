/** Wire types of the REST and Socket.IO contract (DESIGN.md sections 3-5). */

export interface Quote {
  symbol: string;
  name?: string | null;
  price: string;
  currency: string;
  change: string;
  change_pct: string;
  as_of: string;
  market_state: string;
  source: string;
  series: string[];
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
}

export interface SendAck {
  message?: Message;
  command?: string;
}

export interface HistoryPage {
  messages: Message[];
  has_more: boolean;
}
