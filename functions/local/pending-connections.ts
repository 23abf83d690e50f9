// Slow clients (slowloris) hold a file descriptor each while they trickle a request's headers or
// body. REQUEST_TIMEOUT ends each of them eventually, but until then enough of them exhaust the
// process's descriptors and no new connection can be accepted: normal requests are refused
// although the event loop is idle. So the number of connections still sending their request is
// capped: past the cap the oldest of them (the slowest, since a normal request completes in
// milliseconds) is closed to make room. Nothing is closed while under the cap.
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { Socket } from 'node:net';

export function trackPendingConnections(server: http.Server, cap: number): { pending: () => number } {
  // Insertion order is age order: the first key is the connection waiting longest.
  const pending = new Map<Socket, true>();
  server.on('connection', (socket: Socket) => {
    pending.set(socket, true);
    socket.once('close', () => pending.delete(socket));
    if (pending.size > cap) {
      const oldest = pending.keys().next().value as Socket;
      pending.delete(oldest);
      oldest.destroy();
    }
  });
  server.on('request', (req: http.IncomingMessage) => {
    const done = (): void => {
      pending.delete(req.socket);
    };
    // Received whole: it no longer counts (a later request on the same connection is not tracked;
    // idle keep-alive connections are bounded by keepAliveTimeout).
    if (req.complete) done();
    else req.once('end', done);
  });
  return { pending: () => pending.size };
}

/**
 * Half of the process's soft limit on open files (Linux, /proc/self/limits), leaving the other
 * half for served requests, upstream calls and the stores; 512 where it cannot be read.
 */
export function defaultPendingCap(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m?.[1]) return Math.max(64, Math.floor(Number(m[1]) / 2));
  } catch {
    // not Linux
  }
  return 512;
}
