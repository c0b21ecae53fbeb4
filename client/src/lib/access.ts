/**
 * Who may do what in a channel, as the client shows it (the server decides; these only choose which
 * controls to offer), and how a channel is named to its reader: "#earnings", or "@bob" for a DM.
 */
import { sameUser } from "./ids";
import type { Channel, ChannelRole, SiteRole } from "./types";

export const isAdmin = (roles: readonly SiteRole[]): boolean => roles.includes("admin");
/** Compliance reads everything and posts nothing. */
export const isCompliance = (roles: readonly SiteRole[]): boolean => roles.includes("compliance");

export const isDm = (c: Channel | undefined): boolean => c?.kind === "dm";
export const isPrivate = (c: Channel | undefined): boolean => c?.visibility === "private" || isDm(c);

/** Mutes, bans, kicks, topic and slow mode, any message's deletion, pins: owners, moderators, site admins. */
export function canModerate(role: ChannelRole | null, roles: readonly SiteRole[]): boolean {
  return role === "owner" || role === "moderator" || isAdmin(roles);
}

/** Making and unmaking moderators: the owner and site admins only. */
export function canAppoint(role: ChannelRole | null, roles: readonly SiteRole[]): boolean {
  return role === "owner" || isAdmin(roles);
}

/** Slow mode spares a channel's owner and moderators, and site admins. */
export const slowModeExempt = (role: ChannelRole | null, roles: readonly SiteRole[]): boolean =>
  role === "owner" || role === "moderator" || isAdmin(roles);

/** The other person in a DM (oneself in a DM with oneself). */
export function dmPeer(c: Channel, me: string): string {
  const members = c.members ?? [];
  return members.find((u) => !sameUser(u, me)) ?? members[0] ?? c.name;
}

/** How the channel reads in headings and labels: "#name", or "@peer" for a DM. */
export function channelLabel(c: Channel | undefined, name: string, me: string): string {
  return c && isDm(c) ? `@${dmPeer(c, me)}` : `#${name}`;
}

/** A channel list's channels and its DMs, apart, each in list order. */
export function splitChannels(channels: readonly Channel[]): { rooms: Channel[]; dms: Channel[] } {
  const rooms: Channel[] = [];
  const dms: Channel[] = [];
  for (const c of channels) (isDm(c) ? dms : rooms).push(c);
  return { rooms, dms };
}
