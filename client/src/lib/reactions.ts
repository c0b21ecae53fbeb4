/** The server's reaction allowlist, in the order the picker shows it: bullish and bearish first. */
export const REACTIONS = [
  "🐂",
  "🐻",
  "👍",
  "👎",
  "🔥",
  "🚀",
  "📈",
  "📉",
  "💰",
  "👀",
  "🤔",
  "😂",
  "😮",
  "😢",
  "🎉",
  "❤️",
  "🙏",
  "✅",
  "❌",
  "💯",
] as const;

const WORDS: Record<string, string> = { "🐂": "bullish", "🐻": "bearish" };

/** A word for the emoji where one helps (🐂 bullish), for tooltips. */
export function reactionWord(emoji: string): string | undefined {
  return WORDS[emoji];
}
