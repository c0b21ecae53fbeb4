import { useEffect, useId, useState, type FormEvent } from "react";
import { isAdmin, isCompliance } from "../lib/access";
import { api } from "../lib/api";
import { formatAsOf } from "../lib/format";
import { sameUser } from "../lib/ids";
import type { AdminUser, Invite, SiteRole } from "../lib/types";
import { errorText, field, heading, primary, section, small } from "./adminStyles";
import { AuditLog } from "./AuditLog";
import { ComplianceArea } from "./ComplianceArea";

const SEARCH_PAUSE_MS = 200;

/**
 * The site's administration: invitations and users (roles, suspension) for site admins; the
 * compliance archive (chain heads, exports, legal holds) and the audit log for admins and compliance.
 */
export function AdminPage({ me, roles, onClose }: { me: string; roles: readonly SiteRole[]; onClose: () => void }) {
  const admin = isAdmin(roles);
  return (
    <section className="flex min-h-0 flex-1 flex-col" aria-labelledby="admin-title" data-testid="admin-page">
      <header className="flex items-center gap-2 border-b border-ink-700 bg-ink-900/95 px-3 py-2.5 sm:px-5">
        <h1 id="admin-title" className="text-lg font-semibold">
          Administration
        </h1>
        <button type="button" onClick={onClose} className="ml-auto rounded-md border border-ink-600 px-2.5 py-1 text-sm text-ink-200 hover:bg-ink-700 focus-ring">
          Back to chat
        </button>
      </header>
      <div className="min-h-0 flex-1 space-y-4 overflow-y-auto p-3 sm:p-5">
        {admin && <Invites />}
        {admin && <Users me={me} />}
        {(admin || isCompliance(roles)) && <ComplianceArea />}
        {(admin || isCompliance(roles)) && <AuditLog />}
      </div>
    </section>
  );
}

function Invites() {
  const [uses, setUses] = useState(1);
  const [hours, setHours] = useState(72);
  const [invites, setInvites] = useState<Invite[] | null>(null);
  const [made, setMade] = useState<Invite | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  useEffect(() => {
    api.invites().then(
      (r) => setInvites(r.invites),
      (e: unknown) => setError(errorText(e, "Could not load the invitations.")),
    );
  }, []);

  async function create(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      const inv = await api.createInvite(uses, hours);
      setMade(inv);
      setInvites((list) => [inv, ...(list ?? [])]);
    } catch (err) {
      setError(errorText(err, "Could not create the invitation."));
    } finally {
      setBusy(false);
    }
  }

  async function copy(code: string) {
    try {
      await navigator.clipboard.writeText(code);
      setCopied(true);
    } catch {
      setError("Could not copy; select the code and copy it by hand.");
    }
  }

  return (
    <section className={section} aria-labelledby={`${id}-h`} data-testid="admin-invites">
      <h2 id={`${id}-h`} className={heading}>
        Invitations
      </h2>
      <form onSubmit={(e) => void create(e)} className="flex flex-wrap items-end gap-3" noValidate>
        <div>
          <label htmlFor={`${id}-uses`} className="mb-1 block text-xs font-medium text-ink-300">
            Uses
          </label>
          <input id={`${id}-uses`} type="number" min={1} max={1000} value={uses} onChange={(e) => setUses(Number(e.target.value))} className={`${field} w-24`} />
        </div>
        <div>
          <label htmlFor={`${id}-hours`} className="mb-1 block text-xs font-medium text-ink-300">
            Valid for (hours)
          </label>
          <input id={`${id}-hours`} type="number" min={1} max={720} value={hours} onChange={(e) => setHours(Number(e.target.value))} className={`${field} w-24`} />
        </div>
        <button type="submit" disabled={busy} className={primary}>
          Create invite
        </button>
      </form>
      {made && (
        <div className="mt-3 flex flex-wrap items-center gap-2 rounded-lg border border-accent/40 bg-accent/10 px-3 py-2 text-sm">
          <span>New invite code:</span>
          <code className="font-mono text-ink-100" data-testid="invite-code">
            {made.code}
          </code>
          <button type="button" onClick={() => void copy(made.code)} className={small} aria-label="Copy invite code">
            Copy
          </button>
          <span role="status" className="text-xs text-up">
            {copied ? "Copied" : ""}
          </span>
        </div>
      )}
      {error && (
        <p role="alert" className="mt-2 text-sm text-down">
          {error}
        </p>
      )}
      {invites && invites.length > 0 && (
        <table className="mt-3 w-full text-left text-sm">
          <caption className="sr-only">Invitations</caption>
          <thead className="text-xs text-ink-400">
            <tr>
              <th className="py-1 font-medium">Code</th>
              <th className="py-1 font-medium">Uses left</th>
              <th className="py-1 font-medium">Expires</th>
              <th className="py-1 font-medium">By</th>
            </tr>
          </thead>
          <tbody>
            {invites.map((inv) => (
              <tr key={inv.code} className="border-t border-ink-700">
                <td className="py-1 font-mono">{inv.code}</td>
                <td className="py-1 tabular-nums">{inv.uses_left}</td>
                <td className="py-1">{formatAsOf(inv.expires_at)}</td>
                <td className="py-1">{inv.created_by}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const GRANTABLE: readonly { role: SiteRole; name: string }[] = [
  { role: "admin", name: "admin" },
  { role: "compliance", name: "compliance" },
];

function Users({ me }: { me: string }) {
  const [prefix, setPrefix] = useState("");
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  useEffect(() => {
    let stale = false;
    const t = window.setTimeout(() => {
      api.adminUsers(prefix.trim()).then(
        (r) => {
          if (!stale) setUsers(r.users);
        },
        (e: unknown) => {
          if (!stale) setError(errorText(e, "Could not load the users."));
        },
      );
    }, SEARCH_PAUSE_MS);
    return () => {
      stale = true;
      window.clearTimeout(t);
    };
  }, [prefix]);

  async function change(username: string, fn: () => Promise<Partial<AdminUser> & { username: string }>) {
    setError(null);
    try {
      const patch = await fn();
      setUsers((list) => list?.map((u) => (u.username === username ? { ...u, ...patch } : u)) ?? null);
    } catch (e) {
      setError(errorText(e, "That did not work."));
    }
  }

  return (
    <section className={section} aria-labelledby={`${id}-h`} data-testid="admin-users">
      <h2 id={`${id}-h`} className={heading}>
        Users
      </h2>
      <label htmlFor={`${id}-q`} className="mb-1 block text-xs font-medium text-ink-300">
        Find users
      </label>
      <input
        id={`${id}-q`}
        value={prefix}
        onChange={(e) => setPrefix(e.target.value)}
        placeholder="Username starts with…"
        autoCapitalize="none"
        spellCheck={false}
        className={`${field} w-full max-w-xs`}
      />
      {error && (
        <p role="alert" className="mt-2 text-sm text-down">
          {error}
        </p>
      )}
      {users && (
        <ul className="mt-3 divide-y divide-ink-700" aria-label="Users">
          {users.map((u) => {
            const self = sameUser(u.username, me);
            return (
              <li key={u.username} className="flex flex-wrap items-center gap-2 py-2 text-sm" data-testid="admin-user" data-username={u.username}>
                <span className="font-medium text-ink-100">{u.username}</span>
                {u.roles
                  .filter((r) => r !== "user")
                  .map((r) => (
                    <span key={r} className="rounded bg-accent/15 px-1.5 py-px text-[11px] font-semibold uppercase text-accent">
                      {r}
                    </span>
                  ))}
                {u.suspended && <span className="rounded bg-down/15 px-1.5 py-px text-[11px] font-semibold uppercase text-down">suspended</span>}
                <span className="ml-auto flex flex-wrap gap-1.5">
                  {GRANTABLE.map(({ role, name }) =>
                    u.roles.includes(role) ? (
                      <button
                        key={role}
                        type="button"
                        className={small}
                        aria-label={`Revoke ${name} from ${u.username}`}
                        onClick={() => void change(u.username, () => api.revokeRole(u.username, role))}
                      >
                        Revoke {name}
                      </button>
                    ) : (
                      <button
                        key={role}
                        type="button"
                        className={small}
                        aria-label={`Grant ${name} to ${u.username}`}
                        onClick={() => void change(u.username, () => api.grantRole(u.username, role))}
                      >
                        Grant {name}
                      </button>
                    ),
                  )}
                  {u.suspended ? (
                    <button
                      type="button"
                      className={small}
                      aria-label={`Lift suspension of ${u.username}`}
                      onClick={() => void change(u.username, () => api.unsuspend(u.username))}
                    >
                      Lift suspension
                    </button>
                  ) : (
                    <button
                      type="button"
                      className={small}
                      disabled={self}
                      aria-label={`Suspend ${u.username}`}
                      onClick={() => void change(u.username, () => api.suspend(u.username))}
                    >
                      Suspend
                    </button>
                  )}
                </span>
              </li>
            );
          })}
          {users.length === 0 && <li className="py-2 text-sm text-ink-400">No users found.</li>}
        </ul>
      )}
    </section>
  );
}
