/**
 * Desktop notifications (the browser's Notification API) for when the tab is hidden. The browser is
 * asked for permission only from a button the user clicks, never on load: a prompt nobody asked for
 * is one most people block for good.
 */
import type { ChatNotification } from "./types";

export type DesktopPermission = "unsupported" | "default" | "granted" | "denied";

function api(): typeof Notification | undefined {
  return typeof window !== "undefined" && "Notification" in window ? window.Notification : undefined;
}

export function desktopPermission(): DesktopPermission {
  return api()?.permission ?? "unsupported";
}

/** Ask the browser; call it only from the user's click (browsers ignore or block it otherwise). */
export async function askDesktopPermission(): Promise<DesktopPermission> {
  const N = api();
  if (!N) return "unsupported";
  try {
    return await N.requestPermission();
  } catch {
    return N.permission;
  }
}

/** Whether the page is out of sight (another tab, a minimized window): then notifications go to the desktop. */
export function pageHidden(): boolean {
  return typeof document !== "undefined" && document.visibilityState === "hidden";
}

/** Show `n` on the desktop if the user allowed it; a click brings the tab back and runs `onOpen`. */
export function showDesktop(n: ChatNotification, onOpen: () => void): void {
  const N = api();
  if (!N || N.permission !== "granted") return;
  try {
    // One per notification however many tabs of the user show it: the tag replaces, not stacks.
    const shown = new N("investor-chat", { body: n.text, tag: n.id });
    shown.onclick = () => {
      window.focus();
      onOpen();
      shown.close();
    };
  } catch {
    // Some browsers (Chrome on Android) allow notifications only from a service worker: the inbox still has it.
  }
}
