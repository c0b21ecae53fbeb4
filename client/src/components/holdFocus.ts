/** Keeping the keyboard inside a modal (the channel drawer, the notification settings). */
import type { KeyboardEvent } from "react";

/** Tab and Shift+Tab wrap around inside a modal instead of leaving it. */
export function holdFocus(e: KeyboardEvent<HTMLElement>) {
  if (e.key !== "Tab") return;
  const focusable = [...e.currentTarget.querySelectorAll<HTMLElement>("button, [href], input, textarea, select, [tabindex]")].filter(
    (el) => el.tabIndex >= 0 && !el.hasAttribute("disabled") && el.getClientRects().length > 0,
  );
  const first = focusable[0];
  const last = focusable.at(-1);
  if (!first || !last) return;
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}
