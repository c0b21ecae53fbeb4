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
  /** Its content removed under the retention policy (text "", no quotes or reactions); keeps its id, seq and user. */
  redacted?: boolean | null;
  /** The id of the thread's root message (same channel) when this is a reply. */
  reply_to?: string | null;
  /** On a thread's root: how many replies it has. */
  reply_count?: number;
  reactions?: Reaction[] | null;
  pinned?: boolean;
  /** Who it mentions, as the server read it: usernames as registered, "@here", "@channel"; absent when none. */
  mentions?: string[] | null;
  /** On StockBot's idea card: the trade idea it tracks (replaced when the idea closes). */
  idea?: Idea | null;
}

export interface Reaction {
  emoji: string;
  count: number;
  users: string[];
}

/** `idea`: StockBot's card now shows its idea closed. */
export type UpdateKind = "edit" | "delete" | "react" | "unreact" | "pin" | "unpin" | "idea";

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

export type Visibility = "public" | "private";
export type ChannelKind = "channel" | "dm";
/** A user's role in one channel. */
export type ChannelRole = "owner" | "moderator" | "member";
/** Site-wide roles; every account is a "user". */
export type SiteRole = "user" | "admin" | "compliance";

export interface Channel {
  name: string;
  created_by: string;
  created_at: string;
  /** Older servers send none: public. */
  visibility?: Visibility;
  kind?: ChannelKind;
  topic?: string;
  /** Seconds between two messages of one user; 0 is off. */
  slow_mode_s?: number;
  /** A DM's two usernames; null for other channels. */
  members?: string[] | null;
}

/** GET /api/me/channels: a channel with the signed-in user's role and read state in it. */
export interface MyChannel extends Channel {
  role?: ChannelRole | null;
  last_seq: number;
  /** The user's read mark: 0 when never read. */
  read_seq: number;
  /** Messages by others after `read_seq`, not deleted (the server stops counting at 1000). */
  unread: number;
  /** Mentions of the user after `read_seq`. */
  mentions: number;
}

/** `read_state` (another connection of the user moved the mark) and the ack of `read`: the stored mark. */
export interface ReadMark {
  channel: string;
  seq: number;
}

export type NotificationKind = "mention" | "dm" | "keyword" | "cashtag" | "message" | "alert" | "idea";

/** `notification`, and an entry of GET /api/me/notifications. */
export interface ChatNotification {
  id: string;
  kind: NotificationKind;
  channel?: string | null;
  message?: Message | null;
  /** A line for people: "alice mentioned you in #desk: buy $TSLA". */
  text: string;
  ts: string;
}

export type NotifyLevel = "all" | "mentions" | "none";

/** GET/PUT /api/me/notify */
export interface NotifyPrefs {
  keywords: string[];
  /** Codes without "$", upper-cased by the server. */
  cashtags: string[];
  /** Channel name -> what of it notifies. */
  channels: Record<string, NotifyLevel>;
}

export interface ErrorBody {
  code: string;
  message: string;
  /** `muted`: when the mute ends (ISO 8601). */
  until?: string;
  /** `slow_mode`: seconds until the next message may go. */
  retry_after?: number;
}

export type ChannelEventKind =
  | "member_added"
  | "member_removed"
  | "role_changed"
  | "muted"
  | "unmuted"
  | "banned"
  | "unbanned"
  | "settings_changed";

/** `channel_event`: a change to a channel's members or settings, with its own seq in the channel's stream. */
export interface ChannelEvent {
  seq: number;
  channel: string;
  kind: ChannelEventKind;
  by: string;
  ts: string;
  target?: string | null;
  role?: ChannelRole | null;
  until?: string | null;
  reason?: string | null;
  /** settings_changed: the new values. */
  changes?: { topic?: string; slow_mode_s?: number } | null;
}

export interface Member {
  username: string;
  role: ChannelRole;
}

/** GET /api/channels/{name}/moderation */
export interface ModerationState {
  muted: { username: string; until: string }[];
  banned: string[];
}

export interface Invite {
  code: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  uses_left: number;
}

export interface AdminUser {
  username: string;
  roles: SiteRole[];
  suspended: boolean;
  created_at: string;
}

export interface AuditEntry {
  id: string;
  ts: string;
  actor: string | null;
  action: string;
  target?: string | null;
  channel?: string | null;
  details?: Record<string, unknown> | null;
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ErrorBody };

export interface JoinAck {
  channel: string;
  messages: Message[];
  last_seq: number;
  members: string[];
  /** A catch-up (`after`) cut short at the server's limit: page on with REST `changed_after`. */
  has_more?: boolean;
  /** Channel events with seq above `after` (none without `after`). */
  events?: ChannelEvent[];
  /** The joiner's role in the channel, null when it has none (a public channel's visitor). */
  role?: ChannelRole | null;
  /** When the joiner's mute in the channel ends, null when not muted. */
  muted_until?: string | null;
}

export interface SendAck {
  message?: Message;
  command?: string;
}

export interface HistoryPage {
  messages: Message[];
  has_more: boolean;
}

export type IdeaSide = "long" | "short";
export type IdeaStatus = "open" | "target_hit" | "stopped" | "expired";

/**
 * A trade idea tracked to its outcome. Prices are decimal strings in `currency` (pence for "GBX",
 * points for indices); `return_pct` is signed as the side earns (a short gains when the price falls).
 */
export interface Idea {
  id: string;
  author: string;
  channel: string;
  side: IdeaSide;
  symbol: string;
  currency: string;
  entry: string;
  target?: string | null;
  stop?: string | null;
  opened_at: string;
  expires_at: string;
  status: IdeaStatus;
  exit?: string | null;
  closed_at?: string | null;
  return_pct?: string | null;
}

/** A caller's record over the ideas the reader may see. */
export interface Scorecard {
  ideas: number;
  closed: number;
  /** The fraction (0-1) of closed ideas that hit their target; null while none closed. */
  hit_rate: number | null;
  avg_return_pct: string | null;
}

/** GET /api/users/{username}/ideas */
export interface UserIdeas {
  ideas: Idea[];
  scorecard: Scorecard;
}

export type AlertOp = "above" | "below" | "move_pct";
export type AlertStatus = "active" | "triggered" | "expired" | "cancelled";

/** A price alert: `value` a price in `currency`, or for `move_pct` a percentage against `created_price`. */
export interface Alert {
  id: string;
  symbol: string;
  op: AlertOp;
  value: string;
  created_price: string;
  currency: string;
  status: AlertStatus;
  created_at: string;
  expires_at: string;
  triggered_at?: string | null;
  triggered_price?: string | null;
  /** Where it was set with /alert; none when set by REST. */
  channel?: string | null;
}

/** GET /api/me/watchlist?quotes=true (without `quotes=true`: symbols only). */
export interface WatchlistResponse {
  /** Codes as the server normalizes them ("AAPL.US"), in the user's order. */
  symbols: string[];
  quotes?: Quote[];
  errors?: { symbol: string; code: string; message: string }[];
}

/** `watchlist`: the user's watchlist changed (another tab, /watch, /unwatch, REST). */
export interface WatchlistEvent {
  symbols: string[];
}

/** GET /api/admin/archive/heads: a channel's journal as far as it is chained (docs/compliance.md). */
export interface ChainHead {
  name: string;
  /** The seq of its last chained entry; 0 when none yet. */
  last_seq: number;
  /** 64 hex digits: sha256 over every entry up to `last_seq`. */
  chain: string;
  /** Where its journal begins: 1, or past the records archived before the journal existed. */
  first_seq?: number;
}

export type ExportFormat = "jsonl" | "eml" | "csv";
export type ExportStatus = "running" | "done" | "failed";

/** An export job (POST /api/admin/exports, GET /api/admin/exports[/{id}]). */
export interface ExportJob {
  id: string;
  status: ExportStatus;
  format: ExportFormat;
  /** The dates asked for, as given (YYYY-MM-DD). */
  from: string;
  to: string;
  /** The channels asked for; null or absent: every channel. */
  channels?: string[] | null;
  progress: { events: number; channels_done: number; channels: number };
  created_by: string;
  created_at: string;
  finished_at?: string | null;
  /** Once done: how many files (manifest.json included). */
  files?: number | null;
  /** Once done: the zip's bytes. */
  size?: number | null;
  /** Once done: manifest.json's sha256, to note down and show the export unchanged later. */
  manifest?: string | null;
  /** Why it failed: "interrupted" when its server node stopped first. */
  error?: string | null;
}

/** A legal hold: nothing it covers is redacted under the retention policy while it stands. */
export interface LegalHold {
  name: string;
  /** Neither channels nor users: it holds everything. */
  channels?: string[] | null;
  users?: string[] | null;
  reason?: string | null;
  created_by?: string | null;
  created_at?: string | null;
}
