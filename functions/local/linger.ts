// Refusing a request whose body is still arriving (413, 401, 503) so the client can read the
// answer. Closing the socket with unread bytes in its receive buffer makes the kernel send a
// reset, and a client still writing its body (the OpenAI SDK, fetch) then reports a connection
// error (EPIPE, ECONNRESET) instead of the status. So, as nginx's lingering close does, the
// whole answer is written first, the rest of the body is read and thrown away up to a bound of
// bytes and time, and only then is the connection closed.
import type http from 'node:http';
import type { ApiResponse } from '../core/api-types';

export interface LingerBounds {
  /** The most body bytes thrown away after the answer; beyond it the connection is closed. */
  bytes: number;
  /** The longest wait for the rest of the body. */
  ms: number;
}

/** Writes a whole-body answer with `connection: close`, then drains the request within bounds. */
export function refuseAndLinger(req: http.IncomingMessage, res: http.ServerResponse, response: ApiResponse, bounds: LingerBounds): Promise<void> {
  const text = typeof response.body === 'string' ? response.body : '';
  res.shouldKeepAlive = false;
  res.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(text), connection: 'close' });
  if (req.complete || req.destroyed) {
    res.end(text);
    return Promise.resolve();
  }
  // The full answer goes out now (the client knows its length); ending the response is what
  // closes the socket, so it waits until the body has been read or a bound is reached.
  res.write(text);
  return new Promise((resolve) => {
    let discarded = 0;
    const finish = (): void => {
      clearTimeout(timer);
      req.removeListener('data', onData);
      req.removeListener('end', finish);
      req.removeListener('close', finish);
      if (!res.writableEnded) res.end();
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      discarded += chunk.length;
      if (discarded > bounds.bytes) finish();
    };
    const timer = setTimeout(finish, bounds.ms);
    req.on('data', onData);
    req.once('end', finish);
    req.once('close', finish);
    req.on('error', () => undefined); // a client that resets while we linger is not our error
    req.resume();
  });
}
