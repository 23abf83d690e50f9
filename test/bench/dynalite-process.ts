// Runs dynalite (an embedded DynamoDB) in its own process for the storage section, counting the
// requests it serves by operation and table. Prints "listening <port>", then answers one command
// per stdin line: "counts" → "counts <json>" (and starts counting afresh).
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

// dynalite ships no types; this is the one function used.
const dynalite = require('dynalite') as (opts: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

let counts: Record<string, number> = {};

function count(req: IncomingMessage): void {
  const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
  let body = '';
  req.on('data', (c: Buffer) => {
    body += c.toString();
  });
  req.on('end', () => {
    let table = '?';
    try {
      table = String((JSON.parse(body) as { TableName?: string }).TableName ?? '?').replace(/^.*-/, '');
    } catch {
      /* not JSON: counted under "?" */
    }
    const key = `${op} ${table}`;
    counts[key] = (counts[key] ?? 0) + 1;
  });
}

async function main(): Promise<void> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  server.on('request', count);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'counts') return;
    process.stdout.write(`counts ${JSON.stringify(counts)}\n`);
    counts = {};
  });
  const shutdown = (): void => process.exit(0);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.stdin.on('end', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
