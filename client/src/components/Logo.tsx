export function Logo({ className = "h-7 w-7" }: { className?: string }) {
  return (
    <svg className={className} viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="#131922" stroke="#263041" />
      <path d="M6 22l6-6 5 4 9-10" stroke="#22c55e" strokeWidth="2.6" fill="none" strokeLinecap="round" strokeLinejoin="round" />
      <circle cx="26" cy="10" r="2.2" fill="#38bdf8" />
    </svg>
  );
}
