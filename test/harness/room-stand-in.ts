// A real local HTTP server standing in for the room service (room/): it takes
// POST /api/events as the service does and keeps every batch with the headers it
// came with, and can be told to fail, or be stopped and started again on the
// same port (the service going away and coming back).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RoomEvent } from '../../common/src/protocol.js';
import { eventually } from './servers.js';

export interface ReceivedBatch {
  authorization: string | undefined;
  events: RoomEvent[];
}

export class RoomStandIn {
  readonly batches: ReceivedBatch[] = [];
  /** Answers every post with this status instead of 204 while set (503, 429, 400, …). */
  failWith: number | null = null;
  /** Posts answered with failWith. */
  failed = 0;
  private server: http.Server | null = null;
  private sockets = new Set<import('node:net').Socket>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/services/room`;
  }

  get events(): RoomEvent[] {
    return this.batches.flatMap((batch) => batch.events);
  }

  /** Starts listening (on its former port after stop(), so the stack's URL stays right). */
  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/services/room/api/events') {
          res.writeHead(404).end();
          return;
        }
        if (this.failWith !== null) {
          this.failed++;
          res.writeHead(this.failWith).end();
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: RoomEvent[] };
        this.batches.push({ authorization: req.headers.authorization, events: body.events });
        res.writeHead(204).end();
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops answering at all: connections are refused until start(). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits until an event passing `match` has come, and returns it. */
  async waitFor<T extends RoomEvent>(match: (event: RoomEvent) => event is T, what: string): Promise<T>;
  async waitFor(match: (event: RoomEvent) => boolean, what: string): Promise<RoomEvent>;
  async waitFor(match: (event: RoomEvent) => boolean, what: string): Promise<RoomEvent> {
    return eventually<RoomEvent | undefined>(
      () => this.events.find(match),
      20_000,
      `${what}; received: ${JSON.stringify(this.events).slice(-2000)}`,
    ) as Promise<RoomEvent>;
  }
}

export async function startRoomStandIn(): Promise<RoomStandIn> {
  const standIn = new RoomStandIn();
  await standIn.start();
  return standIn;
}
