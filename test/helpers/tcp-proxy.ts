// A TCP proxy on 127.0.0.1 in front of a real server (a redis-server, dynalite), for tests that
// need a store to be slow, silent or unreachable without touching the store itself:
//   pass-through (default): bytes flow both ways as they come;
//   delay(ms):   every chunk, both ways, is held `ms` before it is passed on (a slow store; order
//                is kept, also when the delay changes);
//   blackhole(): connections are accepted, nothing is passed on or answered (a partitioned store:
//                what was sent is held, as TCP would keep retransmitting it, and delivered on
//                restore(), so a client's protocol stream is never silently corrupted);
//   refuse():    every connection is closed and new ones are refused (the listener is closed, so
//                a connect gets ECONNREFUSED, as from a stopped server);
//   restore():   back to pass-through, on the same port.
// It counts what the clients send (connections, chunks, bytes), so a test can tell whether a
// client called the store at all.
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

export type ProxyMode = 'pass' | 'delay' | 'blackhole' | 'refuse';

export interface ProxyCounts {
  /** Connections accepted from clients. */
  connections: number;
  /** Chunks (reads) received from clients: one or more requests each, at least one per request sent alone. */
  chunks: number;
  bytes: number;
  /** What clients sent (latin1, the first 8 MB), to tell which requests reached the store. */
  sent: string;
}

const MAX_SENT_CHARS = 8 * 1024 * 1024;

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  readonly mode: ProxyMode;
  /** What clients sent since start (or the last resetCounts()). */
  readonly counts: ProxyCounts;
  resetCounts(): void;
  delay(ms: number): void;
  blackhole(): void;
  refuse(): Promise<void>;
  /**
   * Back to pass-through. With `abandonHeld`, connections open now stay silent for good and are
   * never closed (half-open: the store behind them vanished without a FIN or RST, as when its
   * host dies or fails over) while new connections pass: only a client that gives up on a silent
   * connection and opens a new one finds the store again.
   */
  restore(opts?: { abandonHeld?: boolean }): Promise<void>;
  /** Client connections open now. */
  openConnections(): number;
  close(): Promise<void>;
}

/** One direction of one connection: chunks go out in order, each no earlier than it is due. */
class Pipe {
  private readonly queue: Array<{ chunk: Buffer; dueMs: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private dead = false;

  constructor(
    private readonly to: Socket,
    private readonly delayMs: () => number,
  ) {}

  push(chunk: Buffer, blackholed: boolean): void {
    if (this.dead) return;
    const dueMs = Date.now() + this.delayMs();
    const last = this.queue.at(-1);
    // Never before the chunk ahead of it: a lowered delay must not reorder the stream.
    this.queue.push({ chunk, dueMs: last ? Math.max(dueMs, last.dueMs) : dueMs });
    this.held = blackholed;
    this.pump();
  }

  /** Silent for good: what was held and whatever comes later is dropped, the socket left open. */
  abandon(): void {
    this.hold();
    this.dead = true;
    this.queue.length = 0;
  }

  /** Held chunks go out (restore after a blackhole) as they fall due. */
  release(): void {
    if (this.dead) return;
    this.held = false;
    this.pump();
  }

  hold(): void {
    this.held = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pump(): void {
    if (this.held || this.timer) return;
    const now = Date.now();
    while (this.queue.length > 0) {
      const head = this.queue[0] as { chunk: Buffer; dueMs: number };
      if (head.dueMs > now) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, head.dueMs - now);
        return;
      }
      this.queue.shift();
      if (!this.to.destroyed) this.to.write(head.chunk);
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const targetHost = target.host ?? '127.0.0.1';
  let mode: ProxyMode = 'pass';
  let delayMs = 0;
  let counts: ProxyCounts = { connections: 0, chunks: 0, bytes: 0, sent: '' };
  const links = new Set<{ client: Socket; upstream: Socket; up: Pipe; down: Pipe }>();

  const onConnection = (client: Socket): void => {
    counts.connections += 1;
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = new Socket();
    upstream.setNoDelay(true);
    const up = new Pipe(upstream, () => delayMs);
    const down = new Pipe(client, () => delayMs);
    const link = { client, upstream, up, down };
    links.add(link);
    const teardown = (): void => {
      if (!links.delete(link)) return;
      up.stop();
      down.stop();
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      counts.chunks += 1;
      counts.bytes += chunk.length;
      if (counts.sent.length < MAX_SENT_CHARS) counts.sent += chunk.toString('latin1');
      up.push(chunk, mode === 'blackhole');
    });
    upstream.on('data', (chunk: Buffer) => down.push(chunk, mode === 'blackhole'));
    // Either side closing or failing closes the other: a server that died closes its clients'
    // connections, as it would without the proxy.
    for (const s of [client, upstream]) {
      s.on('error', teardown);
      s.on('close', teardown);
    }
    // Bytes sent before the upstream connection is up wait in the socket's own write buffer.
    upstream.connect(target.port, targetHost);
  };

  let server: Server = createServer(onConnection);
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);

  const closeListener = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  const dropAll = (): void => {
    for (const l of [...links]) {
      l.client.destroy();
      l.upstream.destroy();
    }
  };

  return {
    host: '127.0.0.1',
    port,
    get mode() {
      return mode;
    },
    get counts() {
      return counts;
    },
    resetCounts() {
      counts = { connections: 0, chunks: 0, bytes: 0, sent: '' };
    },
    delay(ms: number) {
      mode = 'delay';
      delayMs = ms;
      for (const l of links) {
        l.up.release();
        l.down.release();
      }
    },
    blackhole() {
      mode = 'blackhole';
      for (const l of links) {
        l.up.hold();
        l.down.hold();
      }
    },
    async refuse() {
      mode = 'refuse';
      dropAll();
      await closeListener();
    },
    async restore(opts: { abandonHeld?: boolean } = {}) {
      const wasRefusing = mode === 'refuse';
      mode = 'pass';
      delayMs = 0;
      for (const l of links) {
        if (opts.abandonHeld) {
          l.up.abandon();
          l.down.abandon();
        } else {
          l.up.release();
          l.down.release();
        }
      }
      if (wasRefusing && !server.listening) {
        // The same port again: clients configured with it find the store back there.
        server = createServer(onConnection);
        await listen(port);
      }
    },
    openConnections: () => links.size,
    async close() {
      dropAll();
      await closeListener();
    },
  };
}
