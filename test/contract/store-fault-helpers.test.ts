// The fault-injection helpers themselves, against real servers: the outage tests are only as
// good as the faults they inject. The proxy passes bytes, delays them, holds them, refuses
// connections and recovers on its port; a killed store is really gone (connections refused) and a
// restarted one is back on the same port with its data when persisted.
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { ensureTables } from '../../functions/adapters/dynamodb/tables';
import { createDocumentClient } from '../../functions/adapters/dynamodb/client';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { eventually } from '../helpers/eventually';
import { startRestartableDynalite, startRestartableRedis } from '../helpers/store-processes';

/** An echo server: answers every chunk with the same bytes. */
async function startEcho(): Promise<{ server: Server; port: number; dropAll(): void }> {
  const conns = new Set<Socket>();
  const server = createServer((s) => {
    conns.add(s);
    s.on('data', (c) => s.write(c))
      .on('error', () => undefined)
      .on('close', () => conns.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no port');
  return {
    server,
    port: addr.port,
    dropAll: () => {
      for (const c of conns) c.destroy();
    },
  };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `text` and resolves with the reply's arrival time in ms, or 'none' after `waitMs`. */
function roundTrip(s: Socket, text: string, waitMs: number): Promise<number | 'none'> {
  return new Promise((resolve) => {
    const start = Date.now();
    let got = '';
    const timer = setTimeout(() => {
      s.off('data', onData);
      resolve('none');
    }, waitMs);
    const onData = (c: Buffer): void => {
      got += c.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        s.off('data', onData);
        resolve(Date.now() - start);
      }
    };
    s.on('data', onData);
    s.write(text);
  });
}

describe('tcp proxy', () => {
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let proxy: TcpProxy;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    echo = await startEcho();
    proxy = await startTcpProxy({ port: echo.port });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await proxy.close();
    await new Promise<void>((r) => {
      echo.server.close(() => r());
    });
  });
  const client = async (): Promise<Socket> => {
    const s = await open(proxy.port);
    s.on('error', () => undefined);
    sockets.push(s);
    return s;
  };

  test('passes bytes both ways and counts what clients send', async () => {
    const s = await client();
    expect(await roundTrip(s, 'hello', 1000)).toEqual(expect.any(Number));
    expect(proxy.counts).toMatchObject({ connections: 1, bytes: 5 });
    expect(proxy.counts.chunks).toBeGreaterThanOrEqual(1);
  });

  test('delay(ms) adds the latency to both directions, in order; restore() ends it', async () => {
    const s = await client();
    proxy.delay(150);
    const ms = await roundTrip(s, 'slow', 2000);
    expect(ms).toBeGreaterThanOrEqual(290); // 150 ms there, 150 ms back
    await proxy.restore();
    expect(await roundTrip(s, 'fast', 1000)).toBeLessThan(100);
  });

  test('blackhole() accepts and never answers; restore() delivers what was held, in order', async () => {
    const s = await client();
    proxy.blackhole();
    expect(await roundTrip(s, 'held', 300)).toBe('none');
    const fresh = await client(); // a new connection is accepted too
    expect(await roundTrip(fresh, 'x', 200)).toBe('none');
    let got = '';
    s.on('data', (c: Buffer) => {
      got += c.toString();
    });
    await proxy.restore();
    await eventually('held bytes delivered', () => got === 'held', 1000);
  });

  test('refuse() closes every connection and refuses new ones; restore() listens on the same port again', async () => {
    const s = await client();
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    await proxy.refuse();
    await closed;
    await expect(open(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.restore();
    const again = await client();
    expect(await roundTrip(again, 'back', 1000)).toEqual(expect.any(Number));
  });

  test('a server that dies closes the client side of the proxy too', async () => {
    const s = await client();
    await roundTrip(s, 'x', 1000);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    echo.dropAll();
    await closed;
    expect(proxy.openConnections()).toBe(0);
  });
});

describe('restartable redis-server', () => {
  test('kill -9 refuses connections; restart is on the same port; with persist the data survives', async () => {
    const redis = await startRestartableRedis({ persist: true });
    const client = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50, lazyConnect: true });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.set('k', 'v');
      const port = redis.port;
      await redis.kill();
      expect(redis.running).toBe(false);
      await expect(open(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await redis.restart();
      expect(redis.port).toBe(port);
      const { value } = await eventually('reconnected', async () => (await client.get('k')) ?? false, 3000);
      expect(value).toBe('v');
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });

  test('without persist a restart starts empty, and stop() leaves nothing running', async () => {
    const redis = await startRestartableRedis();
    const client = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    try {
      await client.set('k', 'v');
      await redis.restart();
      await eventually('reconnected', async () => (await client.ping()) === 'PONG', 3000);
      expect(await client.get('k')).toBeNull();
    } finally {
      client.disconnect();
      const pid = redis.pid;
      await redis.stop();
      expect(redis.running).toBe(false);
      expect(pid !== undefined && existsSync(`/proc/${pid}`)).toBe(false);
    }
  });
});

describe('restartable dynalite', () => {
  test('a separate process: kill -9 refuses connections; restarted with its path, tables and items are back', async () => {
    const dynalite = await startRestartableDynalite({ persist: true });
    const doc = createDocumentClient({ endpoint: dynalite.endpoint, timeoutMs: 1000 });
    try {
      expect(dynalite.pid).not.toBe(process.pid);
      await ensureTables(doc, { state: 'helpers-state' });
      await doc.send(new PutCommand({ TableName: 'helpers-state', Item: { pk: 'a', sk: 'b', n: 1 } }));
      await dynalite.kill();
      await expect(open(dynalite.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await expect(doc.send(new GetCommand({ TableName: 'helpers-state', Key: { pk: 'a', sk: 'b' } }))).rejects.toThrow();
      await dynalite.restart();
      const raw = new DynamoDBClient({ endpoint: dynalite.endpoint });
      expect((await raw.send(new DescribeTableCommand({ TableName: 'helpers-state' }))).Table?.TableStatus).toBe('ACTIVE');
      raw.destroy();
      const out = await doc.send(new GetCommand({ TableName: 'helpers-state', Key: { pk: 'a', sk: 'b' } }));
      expect(out.Item).toEqual({ pk: 'a', sk: 'b', n: 1 });
    } finally {
      doc.destroy();
      await dynalite.stop();
    }
  });
});
