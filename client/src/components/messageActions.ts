/** What a message row may do, given by the pane that shows it (no provider: a read-only row). */
import { createContext, useContext } from "react";
import type { ActionResult } from "../lib/chatClient";
import type { TimelineItem } from "../lib/messages";

export interface MessageActions {
  /** The signed-in user moderates the channel (its owner, a moderator, a site admin): may delete any message, pin, unpin. */
  moderates: boolean;
  edit: (id: string, text: string) => Promise<ActionResult>;
  remove: (id: string) => Promise<ActionResult>;
  /** React, or take the reaction back when `mine`. */
  toggleReaction: (id: string, emoji: string, mine: boolean) => Promise<ActionResult>;
  setPinned: (id: string, pinned: boolean) => Promise<ActionResult>;
  openThread: (root: TimelineItem) => void;
  /** Opens the pane's one moderation menu on a message's author (`from`: the button pressed); only for those who moderate. */
  moderateAuthor?: (username: string, from: HTMLElement) => void;
}

export const MessageActionsContext = createContext<MessageActions | null>(null);

export function useMessageActions(): MessageActions | null {
  return useContext(MessageActionsContext);
}
