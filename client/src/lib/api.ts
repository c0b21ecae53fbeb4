/** REST client for /api (docs/protocol.md, "REST endpoints"). */
import type { Channel, ErrorBody, HistoryPage, Message, QuotesResponse } from "./types";

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.code = body.code;
    this.status = status;
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

export const api = {
  me: () => request<{ username: string }>("GET", "/api/me"),
  register: (username: string, password: string) => request<Session>("POST", "/api/register", { username, password }),
  login: (username: string, password: string) => request<Session>("POST", "/api/login", { username, password }),
  logout: () => request<void>("POST", "/api/logout"),
  channels: () => request<{ channels: Channel[] }>("GET", "/api/channels"),
  createChannel: (name: string) => request<Channel>("POST", "/api/channels", { name }),
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
  /** 1 to 10 distinct codes; unknown ones come back in `errors`. */
  quotes: (symbols: readonly string[]) =>
    request<QuotesResponse>("GET", `/api/quotes?symbols=${encodeURIComponent(symbols.join(","))}`),
};
