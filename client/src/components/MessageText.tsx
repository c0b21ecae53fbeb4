import { useMemo } from "react";
import { splitLinks } from "../lib/links";
import { splitMentions, targetsMe } from "../lib/mentions";
import type { PriceStamp } from "../lib/types";
import { TextWithCashtags } from "./CashtagChip";

interface Props {
  text: string;
  chips: boolean;
  stamps?: readonly PriceStamp[] | null;
  /** The message's `mentions`: only these `@names` become pills. */
  mentions?: readonly string[] | null;
  /** The signed-in user: a mention of them (their name, @here, @channel) stands out. */
  me?: string;
}

/**
 * What someone wrote: http(s) links as anchors that open in a new tab without handing it this
 * page (`noopener noreferrer`), mentions as pills, cashtags as chips, the rest as text. Never
 * rendered as HTML.
 */
export function MessageText({ text, chips, stamps, mentions, me = "" }: Props) {
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
        ) : mentions?.length && s.text.includes("@") ? (
          <TextWithMentions key={i} text={s.text} chips={chips} stamps={stamps} mentions={mentions} me={me} />
        ) : chips && s.text.includes("$") ? (
          <TextWithCashtags key={i} text={s.text} stamps={stamps} />
        ) : (
          s.text
        ),
      )}
    </>
  );
}

/** A stretch of text with mentions in it: pills for them, chips for the cashtags between. */
function TextWithMentions({ text, chips, stamps, mentions, me }: Props & { mentions: readonly string[]; me: string }) {
  const segments = useMemo(() => splitMentions(text, mentions), [text, mentions]);
  return (
    <>
      {segments.map((s, i) =>
        s.kind === "mention" ? (
          <MentionPill key={i} raw={s.raw} mine={targetsMe(s.target, me)} />
        ) : chips && s.text.includes("$") ? (
          <TextWithCashtags key={i} text={s.text} stamps={stamps} />
        ) : (
          s.text
        ),
      )}
    </>
  );
}

/** `@bob` as a pill; one that reaches the signed-in user is filled, so it is seen at a glance. */
function MentionPill({ raw, mine }: { raw: string; mine: boolean }) {
  return (
    <span
      className={`rounded px-0.5 font-medium ${mine ? "bg-gold/25 font-semibold text-gold ring-1 ring-gold/50" : "bg-accent/10 text-accent"}`}
      data-testid="mention"
      data-me={mine ? "true" : "false"}
    >
      {raw}
    </span>
  );
}
