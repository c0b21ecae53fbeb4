/** Component tests' stand-in for the REST server: answers by "METHOD /path" and records every call. */
import { vi } from "vitest";

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

/**
 * An answer: a JSON body (200, or 201 for a POST), `null` for 204, `{status, error}` for a refusal, or a
 * function of the call giving one of these.
 */
export type Answer = unknown;

function isError(a: unknown): a is { status: number; error: { code: string; message: string } } {
  return typeof a === "object" && a !== null && "status" in a && "error" in a;
}

export function fakeFetch(routes: Record<string, Answer>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn((url: string, init?: RequestInit) => {
      const [path = "", q = ""] = url.split("?");
      const method = init?.method ?? "GET";
      const call: Call = { method, path, query: new URLSearchParams(q), body: init?.body ? JSON.parse(init.body as string) : undefined };
      calls.push(call);
      const key = `${method} ${path}`;
      if (!(key in routes)) return Promise.resolve(new Response(JSON.stringify({ error: { code: "not_found", message: key } }), { status: 404 }));
      const route = routes[key];
      const answer = typeof route === "function" ? (route as (c: Call) => unknown)(call) : route;
      if (answer === null) return Promise.resolve(new Response(null, { status: 204 }));
      if (isError(answer)) return Promise.resolve(new Response(JSON.stringify({ error: answer.error }), { status: answer.status }));
      return Promise.resolve(new Response(JSON.stringify(answer), { status: method === "POST" ? 201 : 200 }));
    }),
  );
  return calls;
}
