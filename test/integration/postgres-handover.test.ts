// A server that shuts down just as a new connection is ready: PostgreSQL's ReadyForQuery and its
// FATAL "terminating connection due to administrator command" (57P01) arrive in one read. pg hands
// the connection over from inside that read, before any caller can listen, and then emits the
// error on it: the gateway must hear it there (the call fails, the process goes on). A fake server
// on 127.0.0.1 speaks just enough of the protocol (v3) to play it.
import { createServer, type Server, type Socket } from 'node:net';
import { PgDatabase } from '../../functions/adapters/postgres/pool';

/** One backend message: its type byte, then its length (itself included) and body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const AUTHENTICATION_OK = message('R', Buffer.from([0, 0, 0, 0]));
const READY_FOR_QUERY = message('Z', Buffer.from('I'));
const FIELDS = { S: 'FATAL', V: 'FATAL', C: '57P01', M: 'terminating connection due to administrator command' };
const ADMIN_SHUTDOWN = message(
  'E',
  Buffer.concat([...Object.entries(FIELDS).map(([code, text]) => Buffer.from(`${code}${text}\0`, 'utf8')), Buffer.from([0])]),
);

let server: Server;
let port: number;
let startups = 0;

beforeAll(async () => {
  server = createServer((socket: Socket) => {
    // The first packet is the startup message (no SSL asked for): answer it, and shut down in the same write.
    socket.once('data', () => {
      startups += 1;
      socket.end(Buffer.concat([AUTHENTICATION_OK, READY_FOR_QUERY, ADMIN_SHUTDOWN]));
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('a connection the server ends as it hands it over fails its call, and nothing is left unheard', async () => {
  const unheard: unknown[] = [];
  const onUncaught = (err: unknown): void => {
    unheard.push(err);
  };
  process.on('uncaughtException', onUncaught);
  const db = PgDatabase.open({
    url: `postgres://gateway@127.0.0.1:${port}/gateway`,
    poolMax: 2,
    connectTimeoutMs: 2000,
    statementTimeoutMs: 2000,
    idleTimeoutMs: 10_000,
    migrateAtStart: false,
  }).withDeadline(2000);
  try {
    await expect(db.query({ text: 'SELECT 1' })).rejects.toThrow();
    // And again: the broken connection was not handed to the next caller as if it were sound.
    await expect(db.query({ text: 'SELECT 1' })).rejects.toThrow();
    expect(startups).toBe(2);
    expect(unheard).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
    await db.close();
  }
});
