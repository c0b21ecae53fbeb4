import { memo, useCallback, useEffect, useId, useState, type FormEvent } from "react";
import { api } from "../lib/api";
import { formatAsOf } from "../lib/format";
import { sameUser } from "../lib/ids";
import type { ChannelRole, Member, ModerationState } from "../lib/types";
import { PeopleIcon, PersonMark } from "./icons";
import { MemberMenu, moderationStep, type MemberAction } from "./MemberMenu";
import { usePopover } from "./popover";

interface Props {
  channel: string;
  /** "#name" in headings. */
  place: string;
  me: string;
  /** May mute, ban, kick and add (owner, moderator, site admin). */
  moderates: boolean;
  /** May make and unmake moderators (owner, site admin). */
  appoints: boolean;
  /** A private channel: members are added here, not by joining. */
  privateChannel: boolean;
  /** Bumped by every event that changes the members (chatState): an open list reloads. */
  rosterRev: number;
  /** Who is in the channel now (the join's `members` and `presence` events), sorted by name. */
  present: readonly string[];
}

const RANK: Record<ChannelRole, number> = { owner: 0, moderator: 1, member: 2 };

interface Roster {
  /** Owner first, then moderators, then members, each by name. */
  members: Member[];
  /** Who is muted and banned: for those who moderate only (null for others). */
  moderation: ModerationState | null;
}

async function fetchRoster(channel: string, moderates: boolean): Promise<Roster> {
  const [m, moderation] = await Promise.all([api.members(channel), moderates ? api.moderation(channel) : Promise.resolve(null)]);
  const members = [...m.members].sort((a, b) => RANK[a.role] - RANK[b.role] || a.username.localeCompare(b.username));
  return { members, moderation };
}

/**
 * The channel header's members button and its panel: who is in, their roles, and moderation for those
 * who may. Memoized: its props change with the channel's roster, not with every message.
 */
export const MembersButton = memo(function MembersButton(props: Props) {
  const { open, setOpen, close, buttonProps, panelProps } = usePopover();

  return (
    <div className="relative">
      <button
        {...buttonProps}
        type="button"
        onClick={() => setOpen((o) => !o)}
        className="flex items-center gap-1 rounded-md px-2 py-1 text-sm text-ink-300 hover:bg-ink-700 focus-ring"
        data-testid="members-button"
      >
        <PeopleIcon />
        <span className="sr-only">Members</span>
      </button>
      {open && (
        <div
          {...panelProps}
          aria-label={`Members of ${props.place}`}
          className="absolute right-0 top-full z-30 mt-1 flex max-h-[min(75vh,32rem)] w-[min(92vw,22rem)] flex-col rounded-xl border border-ink-600 bg-ink-850 shadow-2xl shadow-black/60 outline-none"
          data-testid="members-panel"
        >
          <div className="flex items-center border-b border-ink-700 px-3 py-2">
            <h2 className="text-sm font-semibold">Members of {props.place}</h2>
            <button type="button" onClick={close} className="ml-auto rounded px-1.5 text-sm text-ink-300 hover:bg-ink-700 focus-ring" aria-label="Close members">
              ✕
            </button>
          </div>
          <MembersList {...props} />
        </div>
      )}
    </div>
  );
});

function MembersList({ channel, place, me, moderates, appoints, privateChannel, rosterRev, present }: Props) {
  const [members, setMembers] = useState<Member[] | null>(null);
  const [moderation, setModeration] = useState<ModerationState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const show = useCallback((r: Roster) => {
    setMembers(r.members);
    setModeration(r.moderation);
  }, []);
  const failed = useCallback((e: unknown) => setError(e instanceof Error ? e.message : "Could not load the members."), []);

  // On opening, and again whenever an event changes who is in or their standing.
  useEffect(() => {
    let stale = false;
    fetchRoster(channel, moderates).then(
      (r) => {
        if (!stale) show(r);
      },
      (e: unknown) => {
        if (!stale) failed(e);
      },
    );
    return () => {
      stale = true;
    };
  }, [channel, moderates, rosterRev, show, failed]);

  /** Carry out one step, say how it went, and show the list as it now stands. */
  async function run(what: string, fn: () => Promise<unknown>): Promise<boolean> {
    setError(null);
    setNote(null);
    let ok = false;
    try {
      await fn();
      setNote(what);
      ok = true;
    } catch (e) {
      setError(e instanceof Error ? e.message : "That did not work.");
    }
    await fetchRoster(channel, moderates).then(show, failed);
    return ok;
  }

  function act(username: string, a: MemberAction) {
    const step = moderationStep(channel, username, a);
    return run(step.done, step.call);
  }

  const mutedUntil = new Map((moderation?.muted ?? []).map((m) => [m.username.toLowerCase(), m.until]));
  const mine = members?.find((m) => sameUser(m.username, me));
  // A public channel's member list holds its owner, moderators and those added; whoever else joined
  // posts too, and is moderated from here.
  const visitors =
    moderates && !privateChannel && members
      ? present.filter((u) => !sameUser(u, me) && !members.some((m) => sameUser(m.username, u)))
      : [];
  return (
    <div className="min-h-0 overflow-y-auto p-2">
      {error && (
        <p role="alert" className="px-1 pb-1 text-sm text-down">
          {error}
        </p>
      )}
      <p role="status" className="px-1 text-xs text-ink-400 empty:hidden">
        {note}
      </p>
      {members === null ? (
        !error && <p className="px-1 text-sm text-ink-400">Loading…</p>
      ) : (
        <ul className="flex flex-col gap-0.5" aria-label="Members" data-testid="member-list">
          {members.map((m) => {
            const until = mutedUntil.get(m.username.toLowerCase());
            const self = sameUser(m.username, me);
            return (
              <li key={m.username} className="flex items-center gap-2 rounded-lg px-2 py-1 hover:bg-ink-800" data-testid="member" data-username={m.username}>
                <PersonMark name={m.username} className="h-6 w-6 text-xs" />
                <span className="min-w-0 truncate text-sm text-ink-100">{m.username}</span>
                {self && <span className="text-xs text-ink-400">(you)</span>}
                {m.role !== "member" && (
                  <span
                    className={`rounded px-1.5 py-px text-[11px] font-semibold uppercase tracking-wide ${
                      m.role === "owner" ? "bg-gold/15 text-gold" : "bg-accent/15 text-accent"
                    }`}
                    data-testid="role-badge"
                  >
                    {m.role}
                  </span>
                )}
                {until && <span className="text-xs text-gold">muted until {formatAsOf(until)}</span>}
                {moderates && !self && m.role !== "owner" && (
                  <MemberMenu username={m.username} role={m.role} muted={!!until} appoints={appoints} onAction={(a) => void act(m.username, a)} />
                )}
              </li>
            );
          })}
        </ul>
      )}
      {visitors.length > 0 && (
        <div className="mt-3 border-t border-ink-700 pt-2">
          <h3 className="px-1 text-xs font-semibold uppercase tracking-wider text-ink-400">
            Also in the channel
          </h3>
          <ul className="flex flex-col gap-0.5" aria-label="Also in the channel" data-testid="visitor-list">
            {visitors.map((u) => {
              const until = mutedUntil.get(u.toLowerCase());
              return (
                <li key={u} className="flex items-center gap-2 rounded-lg px-2 py-1 hover:bg-ink-800" data-testid="visitor" data-username={u}>
                  <PersonMark name={u} className="h-6 w-6 text-xs" />
                  <span className="min-w-0 truncate text-sm text-ink-100">{u}</span>
                  {until && <span className="text-xs text-gold">muted until {formatAsOf(until)}</span>}
                  <MemberMenu username={u} role={null} muted={!!until} appoints={appoints} onAction={(a) => void act(u, a)} />
                </li>
              );
            })}
          </ul>
        </div>
      )}
      {moderates && privateChannel && <AddMember add={(u) => run(`${u} was added.`, () => api.putMember(channel, u))} />}
      {moderation && <ModerationLists moderation={moderation} run={run} channel={channel} />}
      {mine && mine.role !== "owner" && (
        <button
          type="button"
          onClick={() => void run(`You left ${place}.`, () => api.removeMember(channel, me))}
          className="mt-3 w-full rounded-md border border-ink-600 px-2 py-1 text-sm text-ink-200 hover:bg-ink-700 focus-ring"
        >
          Leave {place}
        </button>
      )}
    </div>
  );
}

function AddMember({ add }: { add: (username: string) => Promise<boolean> }) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const username = name.trim();
    if (!username || busy) return;
    setBusy(true);
    if (await add(username)) setName("");
    setBusy(false);
  }

  return (
    <form onSubmit={(e) => void submit(e)} className="mt-3 border-t border-ink-700 px-1 pt-2" noValidate>
      <label htmlFor={`${id}-u`} className="mb-1 block text-xs font-medium text-ink-300">
        Add member
      </label>
      <div className="flex gap-1.5">
        <input
          id={`${id}-u`}
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="Username"
          autoCapitalize="none"
          autoComplete="off"
          spellCheck={false}
          className="min-w-0 flex-1 rounded-md border border-ink-450 bg-ink-950 px-2 py-1 text-sm focus-ring"
        />
        <button type="submit" disabled={busy || !name.trim()} className="rounded-md bg-accent px-2.5 py-1 text-sm font-semibold text-ink-950 disabled:opacity-50 focus-ring">
          Add
        </button>
      </div>
    </form>
  );
}

function ModerationLists({
  channel,
  moderation,
  run,
}: {
  channel: string;
  moderation: ModerationState;
  run: (what: string, fn: () => Promise<unknown>) => Promise<boolean>;
}) {
  const row = "flex items-center gap-2 rounded-lg px-2 py-1 text-sm text-ink-200";
  const undo = "ml-auto rounded px-1.5 text-xs text-ink-300 hover:bg-ink-700 hover:text-ink-100 focus-ring";
  return (
    <div className="mt-3 border-t border-ink-700 pt-2" data-testid="moderation">
      <h3 className="px-1 text-xs font-semibold uppercase tracking-wider text-ink-400">Muted</h3>
      {moderation.muted.length === 0 ? (
        <p className="px-1 py-1 text-xs text-ink-400">No one is muted.</p>
      ) : (
        <ul aria-label="Muted">
          {moderation.muted.map((m) => (
            <li key={m.username} className={row}>
              {m.username} <span className="text-xs text-ink-400">until {formatAsOf(m.until)}</span>
              <button
                type="button"
                className={undo}
                aria-label={`Unmute ${m.username}`}
                onClick={() => void run(`${m.username} is no longer muted.`, () => api.unmute(channel, m.username))}
              >
                Unmute
              </button>
            </li>
          ))}
        </ul>
      )}
      <h3 className="mt-2 px-1 text-xs font-semibold uppercase tracking-wider text-ink-400">Banned</h3>
      {moderation.banned.length === 0 ? (
        <p className="px-1 py-1 text-xs text-ink-400">No one is banned.</p>
      ) : (
        <ul aria-label="Banned">
          {moderation.banned.map((u) => (
            <li key={u} className={row}>
              {u}
              <button type="button" className={undo} aria-label={`Unban ${u}`} onClick={() => void run(`${u} is no longer banned.`, () => api.unban(channel, u))}>
                Unban
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
