/** Channel list entries for tests, as GET /api/me/channels gives them. */
import type { MyChannel } from "../lib/types";

/** A GET /api/me/channels entry: read up to `read_seq`, nothing unread unless said. */
export const myChannel = (name: string, last_seq: number, over: Partial<MyChannel> = {}): MyChannel => ({
  name,
  created_by: "bob",
  created_at: "",
  last_seq,
  read_seq: last_seq,
  unread: 0,
  mentions: 0,
  ...over,
});
