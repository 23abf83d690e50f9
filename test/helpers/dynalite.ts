// An embedded DynamoDB (dynalite, in memory) on a random 127.0.0.1 port, for the DynamoDB
// adapters' tests. Tables become ACTIVE at once (createTableMs: 0), so a test can make its own.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface DynaliteOptions {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  path?: string;
}

// dynalite ships no types; this is the one function the tests use.
const dynalite = require('dynalite') as (opts: DynaliteOptions) => Server;

export interface RunningDynalite {
  endpoint: string;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<RunningDynalite> {
  // The SDK needs some credentials and a region to sign with; dynalite checks neither.
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive sockets of SDK clients would otherwise hold close() open.
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A table-name prefix unique to this test file's run, for tests sharing one dynalite. */
export function uniqueTablePrefix(label = 't'): string {
  return `${label}-${process.pid}-${randomBytes(4).toString('hex')}-`;
}
