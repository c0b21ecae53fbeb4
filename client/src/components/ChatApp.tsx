import { lazy, Suspense, useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { channelLabel } from "../lib/access";
import { api } from "../lib/api";
import { ChatClient } from "../lib/chatClient";
import type { JumpTarget } from "../lib/search";
import { ChatPane } from "./ChatPane";
import { ConnectionBanner } from "./ConnectionBanner";
import { holdFocus } from "./holdFocus";
import { SearchBox } from "./SearchBox";
import { Sidebar } from "./Sidebar";
import { TickerStrip } from "./TickerStrip";

// Only admins and compliance open it: loaded when first opened, not with everyone's chat.
const AdminPage = lazy(() => import("./AdminPage").then((m) => ({ default: m.AdminPage })));

export function ChatApp({ username, onSignedOut }: { username: string; onSignedOut: () => void }) {
  const [client, setClient] = useState<ChatClient | null>(null);
  // The client lives exactly as long as this effect, so a remount (StrictMode, re-login) gets a fresh one.
  useEffect(() => {
    const c = new ChatClient(username, sessionToken(), onSignedOut);
    // eslint-disable-next-line react-hooks/set-state-in-effect -- the client is this effect's resource (made here, stopped in its cleanup), so it can only be published from here
    setClient(c);
    void c.start();
    return () => c.stop();
  }, [username, onSignedOut]);
  if (!client) return null;
  return <ChatLayout client={client} onSignedOut={onSignedOut} />;
}

function ChatLayout({ client, onSignedOut }: { client: ChatClient; onSignedOut: () => void }) {
  const snap = useSyncExternalStore(client.subscribe, client.getSnapshot);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [adminOpen, setAdminOpen] = useState(false);
  const drawerOpener = useRef<HTMLElement | null>(null);
  // A search hit the open channel's list is to scroll to; cleared once it has.
  const [jump, setJump] = useState<JumpTarget | null>(null);
  const jumped = useCallback(() => setJump(null), []);

  const logout = useCallback(() => {
    // Signed out here even when the request fails (offline, server gone), without an unhandled rejection.
    void api
      .logout()
      .catch(() => undefined)
      .finally(() => {
        client.stop();
        onSignedOut();
      });
  }, [client, onSignedOut]);

  const select = useCallback(
    (name: string) => {
      client.select(name);
      setDrawerOpen(false);
      setAdminOpen(false);
    },
    [client],
  );

  const openDrawer = useCallback(() => {
    drawerOpener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    setDrawerOpen(true);
  }, []);

  useEffect(() => {
    if (!drawerOpen) {
      // Closed: focus goes back to what opened the drawer, unless a newly opened channel took it.
      const opener = drawerOpener.current;
      drawerOpener.current = null;
      if (opener?.isConnected && (!document.activeElement || document.activeElement === document.body)) opener.focus();
      return;
    }
    const onKey = (e: globalThis.KeyboardEvent) => e.key === "Escape" && setDrawerOpen(false);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [drawerOpen]);

  const openAdmin = useCallback(() => {
    setAdminOpen(true);
    setDrawerOpen(false);
  }, []);

  const current = snap.chat.current;
  const title = current ? channelLabel(snap.chat.channels.find((c) => c.name === current), current, snap.chat.me) : null;
  // Notifications not yet seen in the inbox count in the tab's title: "(3) #general · investor-chat".
  const unseen = snap.chat.inbox.unseen;
  useEffect(() => {
    const page = adminOpen ? "Administration · investor-chat" : title ? `${title} · investor-chat` : "investor-chat";
    document.title = unseen > 0 ? `(${unseen}) ${page}` : page;
  }, [title, adminOpen, unseen]);

  return (
    <div className="flex h-full flex-col">
      <a
        href="#composer"
        className="sr-only z-50 rounded bg-accent px-3 py-2 text-ink-950 focus:not-sr-only focus:fixed focus:left-2 focus:top-2"
      >
        Skip to message box
      </a>
      <ConnectionBanner conn={snap.conn} />
      {snap.alert && (
        <div role="alert" className="flex items-center gap-3 border-b border-gold/30 bg-gold/10 px-4 py-2 text-sm text-gold" data-testid="access-notice">
          <span className="min-w-0 flex-1">{snap.alert}</span>
          <button
            type="button"
            onClick={() => client.dismissAlert()}
            className="rounded-md border border-gold/40 px-2 py-0.5 text-xs hover:bg-gold/10 focus-ring"
          >
            Dismiss
          </button>
        </div>
      )}
      <div className="relative flex min-h-0 flex-1">
        {/* Wide screens: a fixed column. Narrow screens: a drawer over the chat. */}
        <div className="hidden w-72 shrink-0 md:flex">
          <Sidebar client={client} chat={snap.chat} onSelect={select} onLogout={logout} onOpenAdmin={openAdmin} />
        </div>
        {drawerOpen && (
          <div
            className="fixed inset-0 z-40 flex md:hidden"
            role="dialog"
            aria-modal="true"
            aria-label="Channels"
            onKeyDown={holdFocus}
          >
            <div className="w-[85%] max-w-xs shadow-2xl shadow-black">
              <Sidebar
                client={client}
                chat={snap.chat}
                onSelect={select}
                onLogout={logout}
                onOpenAdmin={openAdmin}
                autoFocus
                onClose={() => setDrawerOpen(false)}
              />
            </div>
            <button
              type="button"
              aria-label="Close channel list"
              className="flex-1 bg-black/60 backdrop-blur-[1px]"
              onClick={() => setDrawerOpen(false)}
            />
          </div>
        )}
        {/* Behind the modal drawer nothing can be reached, by Tab or by a screen reader. */}
        <main className="flex min-w-0 flex-1 flex-col" inert={drawerOpen}>
          <SearchBox chat={snap.chat} source={client} onSelect={select} onJump={setJump} />
          {!adminOpen && <TickerStrip watchlist={client.watchlist} />}
          {adminOpen ? (
            <Suspense fallback={<p className="p-5 text-sm text-ink-400">Loading…</p>}>
              <AdminPage me={snap.chat.me} roles={snap.chat.roles} onClose={() => setAdminOpen(false)} />
            </Suspense>
          ) : current ? (
            <ChatPane
              key={current}
              client={client}
              chat={snap.chat}
              channel={current}
              conn={snap.conn}
              onOpenSidebar={openDrawer}
              jumpTo={jump?.channel === current ? jump : null}
              onJumped={jumped}
            />
          ) : (
            <div className="grid flex-1 place-items-center text-ink-400">
              <button type="button" className="rounded-lg border border-ink-600 px-3 py-2 md:hidden focus-ring" onClick={openDrawer}>
                Choose a channel
              </button>
              <p className="hidden md:block">Choose a channel to start.</p>
            </div>
          )}
        </main>
      </div>
      {snap.notice && (
        <p className="sr-only" role="status">
          {snap.notice}
        </p>
      )}
    </div>
  );
}

function sessionToken(): string | null {
  try {
    return sessionStorage.getItem("investor-chat.token");
  } catch {
    return null;
  }
}
