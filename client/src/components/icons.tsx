/** Small icons shared by the sidebar and the channel header. */
import { colorFor } from "./Avatar";

/** A private channel's mark; named "private" for screen readers (it stands in for the "#"). */
export function LockIcon({ className = "h-4 w-4" }: { className?: string }) {
  return (
    <svg viewBox="0 0 20 20" className={`shrink-0 ${className}`} fill="currentColor" role="img" aria-label="private">
      <path
        fillRule="evenodd"
        d="M10 2a4 4 0 00-4 4v2H5a2 2 0 00-2 2v6a2 2 0 002 2h10a2 2 0 002-2v-6a2 2 0 00-2-2h-1V6a4 4 0 00-4-4zm2 6V6a2 2 0 10-4 0v2h4z"
        clipRule="evenodd"
      />
    </svg>
  );
}

/** The members panel's button. */
export function PeopleIcon({ className = "h-4 w-4" }: { className?: string }) {
  return (
    <svg viewBox="0 0 20 20" className={className} fill="currentColor" aria-hidden="true">
      <path d="M7 9a3 3 0 100-6 3 3 0 000 6zm7 0a2.5 2.5 0 100-5 2.5 2.5 0 000 5zM1 16c0-3 2.7-5 6-5s6 2 6 5v1H1v-1zm13.5-4.9c2.5.3 4.5 1.9 4.5 4.4V17h-4.5v-1c0-1.9-.8-3.6-2.1-4.8.7-.1 1.4-.1 2.1-.1z" />
    </svg>
  );
}

/** The channel settings' button. */
export function GearIcon({ className = "h-4 w-4" }: { className?: string }) {
  return (
    <svg viewBox="0 0 20 20" className={className} fill="currentColor" aria-hidden="true">
      <path
        fillRule="evenodd"
        d="M11.5 1.9a1.5 1.5 0 00-3 0l-.2 1.2a7 7 0 00-1.6.9l-1.1-.5a1.5 1.5 0 00-1.9.6l-.6 1a1.5 1.5 0 00.4 2l1 .7a7 7 0 000 1.8l-1 .7a1.5 1.5 0 00-.4 2l.6 1a1.5 1.5 0 001.9.6l1.1-.5c.5.4 1 .7 1.6.9l.2 1.2a1.5 1.5 0 003 0l.2-1.2a7 7 0 001.6-.9l1.1.5a1.5 1.5 0 001.9-.6l.6-1a1.5 1.5 0 00-.4-2l-1-.7a7 7 0 000-1.8l1-.7a1.5 1.5 0 00.4-2l-.6-1a1.5 1.5 0 00-1.9-.6l-1.1.5a7 7 0 00-1.6-.9l-.2-1.2zM10 13a3 3 0 100-6 3 3 0 000 6z"
        clipRule="evenodd"
      />
    </svg>
  );
}

/**
 * A person's initial on their colour, drawn by CSS (a pseudo-element), so a list of names reads as
 * the names alone to text matching and copy-paste ("bob", not "bbob").
 */
export function PersonMark({ name, className = "h-5 w-5 text-[11px]" }: { name: string; className?: string }) {
  const c = colorFor(name);
  return (
    <span
      aria-hidden="true"
      data-initial={[...name][0] ?? "?"}
      className={`grid shrink-0 place-items-center rounded-md font-semibold uppercase before:content-[attr(data-initial)] ${className}`}
      style={{ backgroundColor: `${c}22`, color: c, boxShadow: `inset 0 0 0 1px ${c}44` }}
    />
  );
}
