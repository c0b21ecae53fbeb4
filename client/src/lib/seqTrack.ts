/**
 * Per-channel sequence tracking over the combined stream: a channel's seq counter advances on
 * new messages and on changes (`message_updated`) alike, so `message` seqs alone have holes.
 *
 * - `last`: the highest seq seen on either event (what a gap is measured against);
 * - `synced`: everything up to here has been seen (where a catch-up starts, `join {after}`);
 * - `ahead`: seqs seen above `synced` (ascending), waiting for the ones below them.
 */
export interface SeqTrack {
  last: number;
  synced: number;
  ahead: number[];
}

export const emptyTrack = (): SeqTrack => ({ last: 0, synced: 0, ahead: [] });

/** What a live event with this seq means: the next one, one already seen (or late), or one after a gap. */
export function classifyEvent(track: SeqTrack, seq: number): "next" | "duplicate" | "gap" {
  if (track.last === 0) return "next";
  if (seq <= track.last) return "duplicate";
  return seq === track.last + 1 ? "next" : "gap";
}

/** Record a live event's seq. Returns the same object when nothing changes. */
export function observe(track: SeqTrack, seq: number): SeqTrack {
  if (!Number.isFinite(seq) || seq <= track.synced || track.ahead.includes(seq)) return track;
  if (track.synced === 0 && track.last === 0) return { last: seq, synced: seq, ahead: [] };
  let synced = track.synced;
  let ahead = [...track.ahead, seq].sort((a, b) => a - b);
  while (ahead.length && ahead[0] === synced + 1) {
    synced = ahead[0]!;
    ahead = ahead.slice(1);
  }
  return { last: Math.max(track.last, seq), synced, ahead };
}

/** A catch-up answered with everything up to `lastSeq` (the channel's highest seq, changes included). */
export function caughtUp(track: SeqTrack, lastSeq: number): SeqTrack {
  if (lastSeq <= track.synced) return track;
  let synced = lastSeq;
  let ahead = track.ahead.filter((s) => s > synced);
  while (ahead.length && ahead[0] === synced + 1) {
    synced = ahead[0]!;
    ahead = ahead.slice(1);
  }
  return { last: Math.max(track.last, lastSeq, synced), synced, ahead };
}
