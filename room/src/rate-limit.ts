// Events each user may post: a bucket per user that fills at a steady rate.
// A stack posts an event every few seconds, with bursts when a whole page is
// clicked through; a stack (or anyone holding its token) posting far more is
// told to wait, so it costs the service little and the room page nothing.

/** Events a user may post at once (a few full batches). */
export const BURST_EVENTS = 300;
/** Events a second a user may post over time: 25 times what a busy attendee's stack sends. */
export const EVENTS_PER_SECOND = 5;
/** Users whose buckets are remembered; full buckets are forgotten first (they hold nothing). */
const MAX_USERS = 20_000;

export interface RateLimit {
  /** Takes `cost` from the user's bucket: 0 when allowed, else the seconds to wait before asking again. */
  take(user: string, cost: number, now?: number): number;
}

export function rateLimit(burst = BURST_EVENTS, perSecond = EVENTS_PER_SECOND): RateLimit {
  const buckets = new Map<string, { level: number; at: number }>();
  return {
    take(user, cost, now = Date.now()) {
      const bucket = buckets.get(user) ?? { level: burst, at: now };
      bucket.level = Math.min(burst, bucket.level + ((now - bucket.at) / 1000) * perSecond);
      bucket.at = now;
      if (bucket.level < cost) {
        buckets.set(user, bucket);
        return Math.max(1, Math.ceil((cost - bucket.level) / perSecond));
      }
      bucket.level -= cost;
      buckets.delete(user); // set again last: the oldest are forgotten first
      buckets.set(user, bucket);
      if (buckets.size > MAX_USERS) buckets.delete(buckets.keys().next().value as string);
      return 0;
    },
  };
}
