import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { api, ApiError } from "../lib/api";
import type { ChatClient } from "../lib/chatClient";
import { sameUser } from "../lib/ids";
import { PersonMark } from "./icons";

/** Wait for a pause in typing before asking the server for names. */
const SEARCH_PAUSE_MS = 150;
const SHOWN = 8;

interface Props {
  client: ChatClient;
  me: string;
  /** The DM's channel, once opened: the sidebar selects it. */
  onOpened: (channel: string) => void;
}

/**
 * "New direct message": a person picker (a combobox over GET /api/users?prefix=) that opens the DM
 * with whoever is chosen, made on the server if it is the first.
 */
export function NewDirectMessage({ client, me, onOpened }: Props) {
  const [open, setOpen] = useState(false);
  const openerRef = useRef<HTMLButtonElement>(null);
  const cancelled = useRef(false);

  useEffect(() => {
    if (!open && cancelled.current) openerRef.current?.focus();
    cancelled.current = false;
  }, [open]);

  if (!open) {
    return (
      <button
        ref={openerRef}
        type="button"
        onClick={() => setOpen(true)}
        className="mt-1 flex w-full items-center gap-2 rounded-md px-2 py-1.5 text-left text-sm text-ink-400 hover:bg-ink-700 hover:text-ink-100 focus-ring"
      >
        <span aria-hidden="true" className="text-base leading-none">
          +
        </span>
        New direct message
      </button>
    );
  }
  return (
    <PersonPicker
      client={client}
      me={me}
      onOpened={(name) => {
        setOpen(false);
        onOpened(name);
      }}
      onCancel={() => {
        cancelled.current = true;
        setOpen(false);
      }}
    />
  );
}

function PersonPicker({ client, me, onOpened, onCancel }: Props & { onCancel: () => void }) {
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<string[]>([]);
  /** The query `found` answers (a newer one may be on its way). */
  const [foundFor, setFoundFor] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const id = useId();

  useEffect(() => inputRef.current?.focus(), []);

  // Names starting with what is typed (everyone's first few when nothing is), not oneself.
  useEffect(() => {
    let stale = false;
    const t = window.setTimeout(() => {
      api.users(query.trim(), SHOWN + 1).then(
        ({ users }) => {
          if (stale) return;
          setFound(users.map((u) => u.username).filter((u) => !sameUser(u, me)).slice(0, SHOWN));
          setFoundFor(query);
          setActive(0);
        },
        (e: unknown) => {
          if (!stale) setError(e instanceof Error ? e.message : "Could not look people up.");
        },
      );
    }, SEARCH_PAUSE_MS);
    return () => {
      stale = true;
      window.clearTimeout(t);
    };
  }, [query, me]);

  async function pick(username: string) {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const ch = await client.openDm(username);
      onOpened(ch.name);
    } catch (e) {
      setError(e instanceof ApiError || e instanceof Error ? e.message : "Could not open the conversation.");
      setBusy(false);
      inputRef.current?.focus();
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!found.length) return;
      const step = e.key === "ArrowDown" ? 1 : -1;
      setActive((i) => (i + step + found.length) % found.length);
    } else if (e.key === "Enter") {
      e.preventDefault();
      const choice = found[active];
      if (choice) void pick(choice);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onCancel();
    }
  }

  const listId = `${id}-list`;
  const optionId = (i: number) => `${id}-opt-${i}`;
  const expanded = found.length > 0;
  return (
    <div className="mt-2 px-2" data-testid="dm-picker">
      <label htmlFor={`${id}-q`} className="mb-1 block text-xs font-medium text-ink-300">
        Find a person
      </label>
      <input
        ref={inputRef}
        id={`${id}-q`}
        role="combobox"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={expanded ? optionId(active) : undefined}
        aria-describedby={error ? `${id}-err` : undefined}
        aria-invalid={error ? true : undefined}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setError(null);
        }}
        onKeyDown={onKeyDown}
        placeholder="Username"
        autoCapitalize="none"
        autoComplete="off"
        spellCheck={false}
        className={`w-full rounded-md border bg-ink-950 px-2 py-1.5 text-sm focus-ring ${error ? "border-down" : "border-ink-450"}`}
      />
      <ul id={listId} role="listbox" aria-label="People" className="mt-1 max-h-56 overflow-y-auto rounded-md">
        {found.map((u, i) => (
          // Reached with the arrow keys from the field (aria-activedescendant), or clicked.
          <li
            key={u}
            id={optionId(i)}
            role="option"
            aria-selected={i === active}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => void pick(u)}
            className={`flex cursor-pointer items-center gap-2 rounded-md px-2 py-1 text-sm ${
              i === active ? "bg-accent/15 text-ink-100" : "text-ink-300 hover:bg-ink-700"
            }`}
          >
            <PersonMark name={u} />
            {u}
          </li>
        ))}
      </ul>
      {!expanded && foundFor === query && query.trim() !== "" && !error && <p className="px-1 text-xs text-ink-400">No one by that name.</p>}
      {error && (
        <p id={`${id}-err`} role="alert" className="mt-1 text-xs text-down">
          {error}
        </p>
      )}
      <button type="button" onClick={onCancel} className="mt-1 text-xs text-ink-400 underline-offset-2 hover:underline focus-ring">
        Cancel
      </button>
    </div>
  );
}
