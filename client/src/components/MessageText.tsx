import { useMemo } from "react";
import { splitLinks } from "../lib/links";
import type { PriceStamp } from "../lib/types";
import { TextWithCashtags } from "./CashtagChip";

/**
 * What someone wrote: http(s) links as anchors that open in a new tab without handing it this
 * page (`noopener noreferrer`), cashtags as chips, the rest as text. Never rendered as HTML.
 */
export function MessageText({ text, chips, stamps }: { text: string; chips: boolean; stamps?: readonly PriceStamp[] | null }) {
  const segments = useMemo(() => splitLinks(text), [text]);
  return (
    <>
      {segments.map((s, i) =>
        s.kind === "link" ? (
          <a
            key={i}
            href={s.href}
            target="_blank"
            rel="noopener noreferrer"
            className="text-accent underline underline-offset-2 hover:text-sky-300 focus-ring"
            data-testid="message-link"
          >
            {s.text}
          </a>
        ) : chips && s.text.includes("$") ? (
          <TextWithCashtags key={i} text={s.text} stamps={stamps} />
        ) : (
          s.text
        ),
      )}
    </>
  );
}
