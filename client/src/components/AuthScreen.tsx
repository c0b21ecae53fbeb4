import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { api, ApiError, type Session } from "../lib/api";
import { Logo } from "./Logo";

type Mode = "login" | "register";
interface Errors {
  username?: string;
  password?: string;
  invite?: string;
  form?: string;
}

const FIELD_OF: Record<string, keyof Errors> = {
  invalid_username: "username",
  username_taken: "username",
  invalid_password: "password",
  invite_required: "invite",
};

/** Refusals that say more than the server's words: what the person can do about it. */
const EXPLAINED: Record<string, string> = {
  invite_required: "This server registers by invitation: enter a valid, unused invite code.",
  registration_closed: "Registration is closed on this server. Ask an administrator for an account.",
};

export function AuthScreen({ onSignedIn, notice }: { onSignedIn: (s: Session) => void; notice?: string }) {
  const [mode, setMode] = useState<Mode>("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [invite, setInvite] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const userRef = useRef<HTMLInputElement>(null);
  const passRef = useRef<HTMLInputElement>(null);
  const inviteRef = useRef<HTMLInputElement>(null);
  const id = useId();

  // Arriving here (first visit, or after Log out removed the button that had focus): start typing.
  useEffect(() => {
    if (!document.activeElement || document.activeElement === document.body) userRef.current?.focus();
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setErrors({});
    try {
      const session =
        mode === "login"
          ? await api.login(username.trim(), password)
          : await api.register(username.trim(), password, invite.trim() || undefined);
      onSignedIn(session);
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "unknown";
      const message = EXPLAINED[code] ?? (err instanceof Error ? err.message : "Something went wrong.");
      const field = FIELD_OF[code] ?? "form";
      setErrors({ [field]: message });
      (field === "username" ? userRef : field === "invite" ? inviteRef : passRef).current?.focus();
      setBusy(false);
    }
  }

  function switchMode(m: Mode) {
    setMode(m);
    setErrors({});
  }

  const inputCls = (bad: boolean) =>
    `w-full rounded-lg border bg-ink-950 px-3 py-2.5 text-ink-100 placeholder:text-ink-400 focus-ring ${
      bad ? "border-down" : "border-ink-450 hover:border-ink-400"
    }`;

  return (
    <main className="relative flex min-h-full items-center justify-center overflow-hidden px-4 py-10">
      <div
        aria-hidden="true"
        className="pointer-events-none absolute inset-0 bg-[radial-gradient(ellipse_at_top,rgba(56,189,248,0.10),transparent_55%),radial-gradient(ellipse_at_bottom_right,rgba(34,197,94,0.08),transparent_50%)]"
      />
      <div className="relative w-full max-w-sm">
        <div className="mb-8 flex items-center gap-3">
          <Logo className="h-10 w-10" />
          <div>
            <h1 className="text-xl font-semibold tracking-tight">investor-chat</h1>
            <p className="text-sm text-ink-400">Real-time chat for trading desks</p>
          </div>
        </div>

        <div className="rounded-2xl border border-ink-700 bg-ink-850/90 p-6 shadow-2xl shadow-black/40 backdrop-blur">
          <div
            role="tablist"
            aria-label="Account"
            className="mb-6 grid grid-cols-2 rounded-lg bg-ink-950 p-1 text-sm"
            onKeyDown={(e) => {
              if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
              const next = mode === "login" ? "register" : "login";
              switchMode(next);
              e.currentTarget.querySelector<HTMLButtonElement>(`[data-mode="${next}"]`)?.focus();
            }}
          >
            {(["login", "register"] as const).map((m) => (
              <button
                key={m}
                type="button"
                role="tab"
                data-mode={m}
                aria-selected={mode === m}
                // Both tabs take Tab as well as the arrow keys: two tabs are quicker reached than taught.
                onClick={() => switchMode(m)}
                className={`rounded-md px-3 py-1.5 font-medium transition focus-ring ${
                  mode === m ? "bg-ink-700 text-ink-100" : "text-ink-400 hover:text-ink-200"
                }`}
              >
                {m === "login" ? "Log in" : "Register"}
              </button>
            ))}
          </div>

          <form onSubmit={(e) => void submit(e)} noValidate aria-labelledby={`${id}-title`}>
            <h2 id={`${id}-title`} className="sr-only">
              {mode === "login" ? "Log in" : "Create an account"}
            </h2>
            {notice && !errors.form && (
              <p className="mb-4 rounded-lg border border-gold/30 bg-gold/10 px-3 py-2 text-sm text-gold">{notice}</p>
            )}
            <div className="mb-4">
              <label htmlFor={`${id}-user`} className="mb-1.5 block text-sm font-medium text-ink-200">
                Username
              </label>
              <input
                ref={userRef}
                id={`${id}-user`}
                name="username"
                autoComplete="username"
                autoCapitalize="none"
                spellCheck={false}
                required
                value={username}
                onChange={(e) => setUsername(e.target.value)}
                aria-invalid={errors.username ? true : undefined}
                aria-describedby={errors.username ? `${id}-user-err` : mode === "register" ? `${id}-user-hint` : undefined}
                className={inputCls(!!errors.username)}
              />
              {errors.username ? (
                <p id={`${id}-user-err`} className="mt-1.5 text-sm text-down" role="alert">
                  {errors.username}
                </p>
              ) : (
                mode === "register" && (
                  <p id={`${id}-user-hint`} className="mt-1.5 text-xs text-ink-400">
                    3–32 letters, digits, _ - .
                  </p>
                )
              )}
            </div>
            <div className="mb-5">
              <label htmlFor={`${id}-pass`} className="mb-1.5 block text-sm font-medium text-ink-200">
                Password
              </label>
              <input
                ref={passRef}
                id={`${id}-pass`}
                name="password"
                type="password"
                autoComplete={mode === "login" ? "current-password" : "new-password"}
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                aria-invalid={errors.password ? true : undefined}
                aria-describedby={errors.password ? `${id}-pass-err` : mode === "register" ? `${id}-pass-hint` : undefined}
                className={inputCls(!!errors.password)}
              />
              {errors.password ? (
                <p id={`${id}-pass-err`} className="mt-1.5 text-sm text-down" role="alert">
                  {errors.password}
                </p>
              ) : (
                mode === "register" && (
                  <p id={`${id}-pass-hint`} className="mt-1.5 text-xs text-ink-400">
                    At least 8 characters.
                  </p>
                )
              )}
            </div>
            {mode === "register" && (
              <div className="mb-5">
                <label htmlFor={`${id}-invite`} className="mb-1.5 block text-sm font-medium text-ink-200">
                  Invite code <span className="font-normal text-ink-400">(if you have one)</span>
                </label>
                <input
                  ref={inviteRef}
                  id={`${id}-invite`}
                  name="invite"
                  autoComplete="off"
                  autoCapitalize="none"
                  spellCheck={false}
                  value={invite}
                  onChange={(e) => setInvite(e.target.value)}
                  aria-invalid={errors.invite ? true : undefined}
                  aria-describedby={errors.invite ? `${id}-invite-err` : undefined}
                  className={inputCls(!!errors.invite)}
                />
                {errors.invite && (
                  <p id={`${id}-invite-err`} className="mt-1.5 text-sm text-down" role="alert">
                    {errors.invite}
                  </p>
                )}
              </div>
            )}
            {errors.form && (
              <p className="mb-4 rounded-lg border border-down/40 bg-down/10 px-3 py-2 text-sm text-down" role="alert">
                {errors.form}
              </p>
            )}
            <button
              type="submit"
              disabled={busy}
              className="w-full rounded-lg bg-accent px-4 py-2.5 font-semibold text-ink-950 transition hover:bg-sky-300 disabled:cursor-wait disabled:opacity-60 focus-ring"
            >
              {busy ? "Please wait…" : mode === "login" ? "Log in" : "Create account"}
            </button>
          </form>
        </div>
        <p className="mt-6 text-center text-xs text-ink-400">
          Ask the bot for quotes with <code className="font-mono text-ink-300">/stock=aapl.us</code>
        </p>
      </div>
    </main>
  );
}
