import type { ConnState } from "../lib/chatClient";

const TEXT: Record<Exclude<ConnState, "connected">, string> = {
  connecting: "Connecting…",
  reconnecting: "Connection lost. Reconnecting… missed messages will appear when we are back.",
  offline: "You are offline. Messages will catch up when your connection returns.",
};

export function ConnectionBanner({ conn }: { conn: ConnState }) {
  const visible = conn !== "connected";
  return (
    <div role="status" aria-live="polite" data-testid="connection-banner" data-state={conn}>
      {visible && (
        <div
          className={`flex items-center justify-center gap-2 px-3 py-1.5 text-center text-sm font-medium ${
            conn === "connecting" ? "bg-ink-700 text-ink-200" : "bg-gold/15 text-gold border-b border-gold/30"
          }`}
        >
          <span className="relative flex h-2 w-2" aria-hidden="true">
            <span className="absolute inline-flex h-full w-full animate-ping rounded-full bg-current opacity-60" />
            <span className="relative inline-flex h-2 w-2 rounded-full bg-current" />
          </span>
          {TEXT[conn]}
        </div>
      )}
    </div>
  );
}
