/** REST client for /api (docs/protocol.md, "REST endpoints"). */
import type {
  AdminUser,
  AuditEntry,
  ChainHead,
  Channel,
  ChannelRole,
  ChatNotification,
  ErrorBody,
  ExportFormat,
  ExportJob,
  HistoryPage,
  Invite,
  LegalHold,
  Member,
  Message,
  ModerationState,
  MyChannel,
  NotifyPrefs,
  QuotesResponse,
  SiteRole,
  UserIdeas,
  Visibility,
  WatchlistResponse,
} from "./types";

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** The whole error object, with its extra fields (`until` of `muted`, say). */
  readonly body: ErrorBody;
  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.code = body.code;
    this.status = status;
    this.body = body;
  }
}

const TOKEN_KEY = "investor-chat.token";

export const tokenStore = {
  get(): string | null {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token: string | null): void {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // The session cookie still authenticates us.
    }
  },
};

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = tokenStore.get();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, { code: "network_error", message: "Cannot reach the server. Check your connection." });
  }
  if (res.status === 204) return undefined as T;
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: ErrorBody } | null)?.error;
    throw new ApiError(res.status, err ?? { code: `http_${res.status}`, message: `Server answered ${res.status}` });
  }
  return data as T;
}

export interface Session {
  username: string;
  token?: string;
}

const ch = (name: string) => `/api/channels/${encodeURIComponent(name)}`;
const userPath = (name: string) => encodeURIComponent(name);

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const api = {
  me: () => request<{ username: string; roles?: SiteRole[] }>("GET", "/api/me"),
  /** `invite`: the code a server registering by invitation asks for (sent only when given). */
  register: (username: string, password: string, invite?: string) =>
    request<Session>("POST", "/api/register", invite ? { username, password, invite } : { username, password }),
  login: (username: string, password: string) => request<Session>("POST", "/api/login", { username, password }),
  logout: () => request<void>("POST", "/api/logout"),
  /** Every channel the user may see, with their role and read state in each. */
  myChannels: () => request<{ channels: MyChannel[] }>("GET", "/api/me/channels"),
  /** The inbox, newest first; `before`: a previous page's `next_before`. */
  notifications: (before?: string, limit = 30) =>
    request<{ notifications: ChatNotification[]; next_before: string | null }>("GET", `/api/me/notifications${query({ before, limit })}`),
  notifyPrefs: () => request<NotifyPrefs>("GET", "/api/me/notify"),
  /** The whole preferences; answers them as stored (keywords lower-cased, codes upper-cased). */
  setNotifyPrefs: (prefs: NotifyPrefs) => request<NotifyPrefs>("PUT", "/api/me/notify", prefs),
  createChannel: (name: string, visibility: Visibility = "public") =>
    request<Channel>("POST", "/api/channels", { name, visibility }),
  updateChannel: (name: string, changes: { topic?: string; slow_mode_s?: number }) =>
    request<Channel>("PATCH", ch(name), changes),
  members: (channel: string) => request<{ members: Member[] }>("GET", `${ch(channel)}/members`),
  /** Adds a member, or sets a member's role. */
  putMember: (channel: string, username: string, role?: ChannelRole) =>
    request<Member>("PUT", `${ch(channel)}/members/${userPath(username)}`, role ? { role } : {}),
  /** Removes a member (kick), or leaves when it is oneself. */
  removeMember: (channel: string, username: string) => request<void>("DELETE", `${ch(channel)}/members/${userPath(username)}`),
  moderation: (channel: string) => request<ModerationState>("GET", `${ch(channel)}/moderation`),
  mute: (channel: string, username: string, minutes: number) =>
    request<{ username: string; until: string }>("POST", `${ch(channel)}/mutes`, { username, minutes }),
  unmute: (channel: string, username: string) => request<void>("DELETE", `${ch(channel)}/mutes/${userPath(username)}`),
  ban: (channel: string, username: string) => request<{ username: string }>("POST", `${ch(channel)}/bans`, { username }),
  unban: (channel: string, username: string) => request<void>("DELETE", `${ch(channel)}/bans/${userPath(username)}`),
  /** The DM channel with `username`, made when new. */
  openDm: (username: string) => request<Channel>("POST", "/api/dms", { username }),
  users: (prefix: string, limit = 10) => request<{ users: { username: string }[] }>("GET", `/api/users${query({ prefix, limit })}`),
  createInvite: (uses: number, hours: number) => request<Invite>("POST", "/api/invites", { uses, hours }),
  invites: () => request<{ invites: Invite[] }>("GET", "/api/invites"),
  adminUsers: (prefix: string, limit = 50) =>
    request<{ users: AdminUser[] }>("GET", `/api/admin/users${query({ prefix, limit })}`),
  grantRole: (username: string, role: SiteRole) =>
    request<{ username: string; roles: SiteRole[] }>("PUT", `/api/admin/users/${userPath(username)}/roles/${role}`),
  revokeRole: (username: string, role: SiteRole) =>
    request<{ username: string; roles: SiteRole[] }>("DELETE", `/api/admin/users/${userPath(username)}/roles/${role}`),
  suspend: (username: string) =>
    request<{ username: string; suspended: boolean }>("POST", `/api/admin/users/${userPath(username)}/suspend`),
  unsuspend: (username: string) =>
    request<{ username: string; suspended: boolean }>("DELETE", `/api/admin/users/${userPath(username)}/suspend`),
  audit: (before?: string, limit = 50) =>
    request<{ entries: AuditEntry[]; next_before: string | null }>("GET", `/api/admin/audit${query({ before, limit })}`),
  /** Every channel's journal head, to publish (admins, compliance). */
  archiveHeads: () => request<{ channels: ChainHead[] }>("GET", "/api/admin/archive/heads"),
  /** Export jobs, newest first. */
  exports: () => request<{ exports: ExportJob[] }>("GET", "/api/admin/exports"),
  /** Starts an export job; `channels` left out: every channel. */
  startExport: (job: { from: string; to: string; channels?: string[]; format: ExportFormat }) =>
    request<ExportJob>("POST", "/api/admin/exports", job),
  /** The finished export as a zip: a plain link, the session cookie authenticates it. */
  exportDownloadUrl: (id: string) => `/api/admin/exports/${encodeURIComponent(id)}/download`,
  holds: () => request<{ holds: LegalHold[] }>("GET", "/api/admin/holds"),
  placeHold: (hold: { name: string; channels?: string[]; users?: string[]; reason?: string }) =>
    request<LegalHold>("POST", "/api/admin/holds", hold),
  releaseHold: (name: string) => request<void>("DELETE", `/api/admin/holds/${encodeURIComponent(name)}`),
  history: (channel: string, params: { before?: number; after?: number; limit?: number }) => {
    const q = new URLSearchParams();
    if (params.before !== undefined) q.set("before", String(params.before));
    if (params.after !== undefined) q.set("after", String(params.after));
    q.set("limit", String(params.limit ?? 50));
    return request<HistoryPage>("GET", `/api/channels/${encodeURIComponent(channel)}/messages?${q}`);
  },
  /** Every message whose rev is above `after` (new and changed ones, folded), in seq order. */
  changes: (channel: string, after: number, limit = 200) =>
    request<HistoryPage>(
      "GET",
      `/api/channels/${encodeURIComponent(channel)}/messages?changed_after=${after}&limit=${limit}`,
    ),
  /** A thread's replies in seq order, after the reply with seq `after`. */
  replies: (channel: string, rootId: string, after = 0, limit = 200) =>
    request<HistoryPage>(
      "GET",
      `/api/channels/${encodeURIComponent(channel)}/messages/${encodeURIComponent(rootId)}/replies?after=${after}&limit=${limit}`,
    ),
  pins: (channel: string) => request<{ messages: Message[] }>("GET", `/api/channels/${encodeURIComponent(channel)}/pins`),
  /** Messages matching every word and `$TICKER` of `q`, in channels one may read, newest first; `before`: a previous `next_before`. */
  search: (params: { q?: string; channel?: string; user?: string; cashtag?: string; before?: string; limit?: number }) =>
    request<{ hits: Message[]; next_before: string | null }>("GET", `/api/search${query(params)}`),
  /** 1 to 10 distinct codes; unknown ones come back in `errors`. */
  quotes: (symbols: readonly string[]) =>
    request<QuotesResponse>("GET", `/api/quotes?symbols=${encodeURIComponent(symbols.join(","))}`),
  /** The watchlist; with `quotes`, each code's quote from the server's shared cache (one request for all). */
  watchlist: (quotes = false) => request<WatchlistResponse>("GET", `/api/me/watchlist${quotes ? "?quotes=true" : ""}`),
  /** The whole watchlist; answers it normalized ("aapl" -> "AAPL.US"). */
  setWatchlist: (symbols: readonly string[]) => request<{ symbols: string[] }>("PUT", "/api/me/watchlist", { symbols }),
  /** A caller's ideas (in channels the reader may read) and their scorecard. */
  userIdeas: (username: string) => request<UserIdeas>("GET", `/api/users/${userPath(username)}/ideas`),
};
