import { useCallback, useEffect, useState } from "react";
import { AuthScreen } from "./components/AuthScreen";
import { ChatApp } from "./components/ChatApp";
import { Logo } from "./components/Logo";
import { api, ApiError, tokenStore, type Session } from "./lib/api";

type Auth = { status: "checking" } | { status: "anonymous"; error?: string } | { status: "signed_in"; username: string };

export function App() {
  const [auth, setAuth] = useState<Auth>({ status: "checking" });

  // Once, while `auth` is still its initial "checking": who is signed in, if anyone.
  useEffect(() => {
    api.me().then(
      (me) => setAuth({ status: "signed_in", username: me.username }),
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 401) tokenStore.set(null);
        setAuth({
          status: "anonymous",
          error: e instanceof ApiError && e.status !== 401 ? e.message : undefined,
        });
      },
    );
  }, []);

  const onSignedIn = useCallback((s: Session) => {
    if (s.token) tokenStore.set(s.token);
    setAuth({ status: "signed_in", username: s.username });
  }, []);

  const onSignedOut = useCallback(() => {
    tokenStore.set(null);
    setAuth({ status: "anonymous" });
  }, []);

  if (auth.status === "checking") {
    return (
      <div className="grid h-full place-items-center" role="status" aria-live="polite">
        <div className="flex items-center gap-3 text-ink-300">
          <Logo className="h-8 w-8 animate-pulse" />
          <span>Loading investor-chat…</span>
        </div>
      </div>
    );
  }
  if (auth.status === "anonymous") return <AuthScreen onSignedIn={onSignedIn} notice={auth.error} />;
  return <ChatApp key={auth.username} username={auth.username} onSignedOut={onSignedOut} />;
}
