// A TCP proxy that holds what clients send for `delayMs` before passing it on, and passes it on
// even after the client has given up and closed its socket: a call that timed out on the client
// still reaches the server and applies there, late, as over a slow network. (tcp-proxy.ts drops
// what a closed client sent, as a partition does; this one models the slow path.) Replies pass at
// once. idle() resolves when everything held has been delivered and the server has answered it
// (so what a timed-out call asked for has been applied).
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

export interface DelayProxy {
  readonly port: number;
  /** Applies to what is sent from now on; order is always kept. */
  delayMs: number;
  /** Resolves once every held chunk has been written to the server and answered. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startDelayProxy(target: { host?: string; port: number }, delayMs = 0): Promise<DelayProxy> {
  let held = 0;
  let waiters: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const settle = (): void => {
    if (held > 0) return;
    for (const w of waiters.splice(0)) w();
  };

  const onConnection = (client: Socket): void => {
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    let lastDue = 0;
    let clientGone = false;
    /** Chunks written to the server and not answered yet. */
    let unanswered = 0;
    const answered = (): void => {
      held -= unanswered;
      unanswered = 0;
      settle();
    };
    const endUpstreamIfDone = (): void => {
      // The server keeps the connection until it has answered what it was sent, then it goes.
      if (clientGone && lastDue <= Date.now()) setTimeout(() => upstream.end(), 200);
    };
    client.on('data', (chunk: Buffer) => {
      const due = Math.max(Date.now() + proxy.delayMs, lastDue);
      lastDue = due;
      held += 1;
      setTimeout(() => {
        if (upstream.destroyed) {
          held -= 1;
          settle();
        } else {
          upstream.write(chunk);
          unanswered += 1;
        }
        endUpstreamIfDone();
      }, due - Date.now());
    });
    upstream.on('data', (chunk: Buffer) => {
      answered();
      if (!client.destroyed) client.write(chunk);
    });
    client.on('close', () => {
      clientGone = true;
      endUpstreamIfDone();
    });
    client.on('error', () => undefined);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      answered();
      client.destroy();
    });
    upstream.connect(target.port, target.host ?? '127.0.0.1');
  };

  const server: Server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const proxy: DelayProxy = {
    port: (server.address() as AddressInfo).port,
    delayMs,
    idle: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        settle();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        waiters = [];
        server.close(() => resolve());
      }),
  };
  return proxy;
}
