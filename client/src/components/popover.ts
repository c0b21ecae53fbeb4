/** A header button's panel (the inbox, pinned messages, members): opening, closing, focus and its ARIA wiring. */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";

/**
 * Open, the panel takes focus; a press anywhere but the panel or its button closes it; Escape in it
 * (unless something inside, a menu, already took it) or `close` closes it and gives focus back to the button.
 * Spread `buttonProps` on the button and `panelProps` on the panel.
 */
export function usePopover() {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const id = useId();

  useEffect(() => {
    if (!open) return;
    panel.current?.focus();
    const onDown = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!panel.current?.contains(t) && !button.current?.contains(t)) setOpen(false);
    };
    document.addEventListener("pointerdown", onDown);
    return () => document.removeEventListener("pointerdown", onDown);
  }, [open]);

  function close() {
    setOpen(false);
    button.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key === "Escape" && !e.defaultPrevented) {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  }

  return {
    open,
    setOpen,
    close,
    buttonProps: { ref: button, "aria-expanded": open, "aria-controls": open ? id : undefined, "aria-haspopup": "dialog" as const },
    panelProps: { ref: panel, id, role: "dialog", tabIndex: -1, onKeyDown },
  };
}
