// The "floor": the least a proxy can do. Forwards method, path, headers and body bytes to the
// upstream over a keep-alive agent and pipes the response back; no parsing, no auth, no logging.
// Env: UPSTREAM_ORIGIN (http://127.0.0.1:PORT), PORT (0 = any). Prints "listening <port>".
import http from 'node:http';

const upstream = new URL(process.env.UPSTREAM_ORIGIN ?? '');
if (upstream.hostname !== '127.0.0.1') throw new Error(`UPSTREAM_ORIGIN must be on 127.0.0.1, got ${upstream.href}`);

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, noDelay: true });

// Hop-by-hop headers describe one connection and must not be forwarded (RFC 9110 7.6.1);
// host is rewritten by node for the upstream connection.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function endToEnd(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

const server = http.createServer((req, res) => {
  const up = http.request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, endToEnd(upRes.headers));
      upRes.pipe(res);
    },
  );
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
});

server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
// The bench holds our stdin open; its end means the bench is gone, so do not outlive it.
process.stdin.on('end', () => process.exit(0)).resume();
