// dynalite (an embedded DynamoDB) in its own process, persisted to a directory, for the outage
// section: SIGKILLed and started again on the same port and path, it serves what it had
// acknowledged before the kill (LevelDB's log is in the OS page cache, which outlives the process).
// Usage: dynalite-persisted.ts <port> <dir>; prints "listening <port>" once it accepts requests.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// dynalite ships no types; this is the one function used.
const dynalite = require('dynalite') as (opts: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const dir = process.argv[3];
  if (!Number.isInteger(port) || port <= 0 || !dir) throw new Error('usage: dynalite-persisted.ts <port> <dir>');
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
  const shutdown = (): void => process.exit(0);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
