// TLS to PostgreSQL as DATABASE_URL's `sslmode` asks for it: a server with a certificate from a
// test CA; `sslmode=verify-full` with that CA (`sslrootcert`) connects encrypted, with another CA
// it refuses to connect; `sslmode=disable` connects in the clear.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PgDatabase } from '../../functions/adapters/postgres/pool';
import type { DatabaseSettings } from '../../functions/config';
import { handOver, startPostgres, type RunningPostgres } from '../helpers/postgres';

const run = promisify(execFile);
let dir: string;
let server: RunningPostgres;

/** A CA and a certificate it signed for 127.0.0.1 (EC keys: quick to make). */
async function certificates(): Promise<void> {
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=gateway-test-ca', '-days', '2');
  await openssl('req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-subj', '/CN=someone-else', '-days', '2');
  await openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  chmodSync(path.join(dir, 'server.key'), 0o600);
  for (const f of ['server.key', 'server.crt']) handOver(path.join(dir, f));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ai-gateway-pg-tls-'));
  chmodSync(dir, 0o755);
  await certificates();
  server = await startPostgres(['ssl=on', `ssl_cert_file=${path.join(dir, 'server.crt')}`, `ssl_key_file=${path.join(dir, 'server.key')}`]);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const settings = (url: string): DatabaseSettings => ({
  url,
  poolMax: 2,
  connectTimeoutMs: 5000,
  statementTimeoutMs: 5000,
  idleTimeoutMs: 5000,
  migrateAtStart: true,
});

async function encrypted(query: string): Promise<boolean> {
  const db = PgDatabase.open(settings(`${server.url()}?${query}`));
  try {
    const [row] = await db.query<{ ssl: boolean }>({ text: 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' });
    return row?.ssl === true;
  } finally {
    await db.close();
  }
}

test('sslmode=verify-full with the CA in sslrootcert connects over TLS', async () => {
  expect(await encrypted(`sslmode=verify-full&sslrootcert=${path.join(dir, 'ca.crt')}`)).toBe(true);
});

test('a server certificate the given CA did not sign is refused', async () => {
  await expect(encrypted(`sslmode=verify-full&sslrootcert=${path.join(dir, 'other-ca.crt')}`)).rejects.toThrow(/certificate/i);
});

test('sslmode=disable connects in the clear', async () => {
  expect(await encrypted('sslmode=disable')).toBe(false);
});
