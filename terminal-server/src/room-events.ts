// Sends the room's events to the room service (ROOM_SERVICE_URL): queued in
// memory, posted in batches, retried while the service is away. Adding an event
// never waits for the network, so neither a terminal nor a page request does;
// one request is out at a time, whatever comes in meanwhile.
import { describeError, type Logger } from '../../common/src/log.js';
import { ROOM_LIMITS, type RoomEvent } from '../../common/src/protocol.js';

export interface RoomSenderOptions {
  /** The service's base URL; events go to <url>/api/events. */
  url: string;
  /** The hub's token for this server: the service asks the hub whose it is. */
  token: string;
  logger: Logger;
  /** Events kept while the service is away; beyond it the oldest are dropped (and counted). */
  maxQueue?: number;
  /** How often what has come in is posted (at once when a whole batch is waiting). */
  intervalMs?: number;
  /** The first retry's delay after a failure, doubled at each failure up to maxBackoffMs (each with jitter). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** How often a count of dropped events is logged (one line per period, not per event). */
  dropLogMs?: number;
}

/** A full day's events of a busy attendee is a few thousand: this is hours of an absent service. */
const MAX_QUEUE = 10_000;
const INTERVAL_MS = 2000;
const BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
const DROP_LOG_MS = 60_000;
/** A post that takes longer is given up and retried. */
const TIMEOUT_MS = 10_000;
/** `{"events":[` and `]}` around a batch. */
const ENVELOPE_BYTES = 13;

export class RoomSender {
  private readonly endpoint: string;
  private readonly maxQueue: number;
  private readonly intervalMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  /** Waiting events as JSON (sized once), oldest first, from `head` on. */
  private queue: string[] = [];
  private head = 0;
  private inFlight = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly tick: NodeJS.Timeout;
  private readonly dropLog: NodeJS.Timeout;
  /** Dropped since the last line about it, and since the start. */
  private droppedNow = 0;
  private droppedTotal = 0;
  private closed = false;

  constructor(private readonly options: RoomSenderOptions) {
    this.endpoint = `${options.url.replace(/\/+$/, '')}/api/events`;
    this.maxQueue = options.maxQueue ?? MAX_QUEUE;
    this.intervalMs = options.intervalMs ?? INTERVAL_MS;
    this.backoffMs = options.backoffMs ?? BACKOFF_MS;
    this.maxBackoffMs = options.maxBackoffMs ?? MAX_BACKOFF_MS;
    this.tick = setInterval(() => this.send(), this.intervalMs);
    this.tick.unref();
    this.dropLog = setInterval(() => this.logDropped(), options.dropLogMs ?? DROP_LOG_MS);
    this.dropLog.unref();
  }

  /** Events waiting to be sent. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Events dropped since the start (the queue was full, or the service refused them). */
  get dropped(): number {
    return this.droppedTotal;
  }

  add(event: RoomEvent): void {
    if (this.closed) return;
    this.queue.push(JSON.stringify(event));
    this.trim();
    if (this.waiting >= ROOM_LIMITS.batchEvents) this.send();
  }

  /** Stops sending; what is still waiting is tried once more, for at most `timeoutMs`. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.tick);
    clearInterval(this.dropLog);
    clearTimeout(this.retryTimer);
    this.logDropped();
    if (this.waiting === 0 || this.inFlight) return;
    await this.post(this.takeBatch(), timeoutMs).catch(() => undefined);
  }

  private trim(): void {
    const over = this.waiting - this.maxQueue;
    if (over > 0) {
      this.head += over;
      this.droppedNow += over;
      this.droppedTotal += over;
    }
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Takes the oldest events that fit one batch (ROOM_LIMITS) off the queue. */
  private takeBatch(): string[] {
    const batch: string[] = [];
    let bytes = ENVELOPE_BYTES;
    while (this.head < this.queue.length && batch.length < ROOM_LIMITS.batchEvents) {
      const event = this.queue[this.head] as string;
      const size = Buffer.byteLength(event) + 1;
      if (batch.length > 0 && bytes + size > ROOM_LIMITS.batchBytes) break;
      batch.push(event);
      bytes += size;
      this.head++;
    }
    this.trim();
    return batch;
  }

  /** Puts a batch that failed back in front of what came meanwhile (the oldest are dropped if that is too many). */
  private putBack(batch: string[]): void {
    this.queue = [...batch, ...this.queue.slice(this.head)];
    this.head = 0;
    this.trim();
  }

  private send(): void {
    if (this.closed || this.inFlight || this.retryTimer !== undefined || this.waiting === 0) return;
    const batch = this.takeBatch();
    this.inFlight = true;
    this.post(batch, TIMEOUT_MS).then(
      (status) => {
        this.inFlight = false;
        if (status === 'sent' || status === 'refused') {
          if (this.failures > 0) this.options.logger.info('room.reachable', { failures: this.failures });
          this.failures = 0;
          if (status === 'refused') {
            this.droppedNow += batch.length;
            this.droppedTotal += batch.length;
          }
          // A whole batch more is waiting: no need to wait for the next tick.
          if (this.waiting >= ROOM_LIMITS.batchEvents) this.send();
          return;
        }
        this.retry(batch, status.reason, status.afterMs);
      },
      (error: unknown) => {
        this.inFlight = false;
        this.retry(batch, describeError(error), 0);
      },
    );
  }

  private retry(batch: string[], reason: string, afterMs: number): void {
    this.putBack(batch);
    if (this.closed) return;
    this.failures++;
    // One line when the service goes away; the drop count then says how long it stayed away.
    if (this.failures === 1) this.options.logger.warn('room.unreachable', { url: this.endpoint, reason });
    const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** Math.min(this.failures - 1, 20));
    // Jitter, so the stacks of a room that lost the service together do not come back together.
    const delay = Math.max(afterMs, backoff * (0.5 + Math.random() / 2));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.send();
    }, delay);
    this.retryTimer.unref();
  }

  /**
   * Posts one batch: 'sent' (2xx), 'refused' (another 4xx than 429: this batch
   * would never be taken; dropped with one line), or why to try again (network
   * error, timeout, 5xx, 429 with its Retry-After).
   */
  private async post(
    batch: string[],
    timeoutMs: number,
  ): Promise<'sent' | 'refused' | { reason: string; afterMs: number }> {
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { Authorization: `token ${this.options.token}`, 'Content-Type': 'application/json' },
        body: `{"events":[${batch.join(',')}]}`,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      await response.arrayBuffer();
    } catch (error) {
      return { reason: describeError(error), afterMs: 0 };
    }
    if (response.ok) return 'sent';
    if (response.status === 429 || response.status >= 500) {
      const seconds = Number(response.headers.get('retry-after'));
      const afterMs = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, this.maxBackoffMs) : 0;
      return { reason: `the service answered ${response.status}`, afterMs };
    }
    this.options.logger.warn('room.batch_refused', { status: response.status, events: batch.length });
    return 'refused';
  }

  private logDropped(): void {
    if (this.droppedNow === 0) return;
    this.options.logger.warn('room.events_dropped', {
      count: this.droppedNow,
      total: this.droppedTotal,
      waiting: this.waiting,
    });
    this.droppedNow = 0;
  }
}
