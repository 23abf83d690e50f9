// A private PostgreSQL cluster on 127.0.0.1 for a test file, from Debian's packages (installed by
// test/setup/ensure-postgres.sh). initdb runs once per machine into a cached template directory;
// each cluster starts from a copy of it, on a free port, with fsync off (the OS keeps what a
// killed server wrote; commits stay synchronous, so a kill loses nothing committed), and is stopped
// in afterAll. PostgreSQL refuses to run as root: as root, the cluster is the `postgres` user's.
// A missing PostgreSQL fails the suite (never skips it): CI installs one.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './store-processes';

const run = promisify(execFile);

export interface RunningPostgres {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  /** A new empty database no other test uses; resolves to its URL. */
  freshDatabase(label?: string): Promise<string>;
  /** `pg_ctl stop -m immediate`: the server dies without a goodbye to its clients (as a crash). */
  kill(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Stops it and removes its data directory. */
  stop(): Promise<void>;
}

const asRoot = userInfo().uid === 0;

/** The newest installed server's bin directory (PG_BIN overrides). */
function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL not found: run test/setup/ensure-postgres.sh (apt-get install -y postgresql)');
  return path.join(base, newest, 'bin');
}

/** Runs a server binary, as the `postgres` user when this process is root. */
async function pgRun(bin: string, args: string[]): Promise<string> {
  const exe = path.join(binDir(), bin);
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  const { stdout } = await run(file, argv, { timeout: 60_000 });
  return stdout;
}

/** Owned by the server's user, so it may use the directory or file (a TLS key it must read). */
export function handOver(dir: string): void {
  if (!asRoot) return;
  const { uid, gid } = postgresUser();
  chownSync(dir, uid, gid);
}

let pgUser: { uid: number; gid: number } | undefined;
function postgresUser(): { uid: number; gid: number } {
  if (pgUser) return pgUser;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  pgUser = { uid, gid };
  return pgUser;
}

/** The initialised cluster every test cluster copies: made once per machine (per server version). */
async function template(): Promise<string> {
  const dir = path.join(tmpdir(), `ai-gateway-pg-template-${path.basename(path.dirname(binDir()))}`);
  if (existsSync(path.join(dir, 'PG_VERSION'))) return dir;
  // Made aside and renamed into place: jest workers racing here each make one, the first rename wins.
  const building = mkdtempSync(path.join(tmpdir(), 'ai-gateway-pg-initdb-'));
  handOver(building);
  await pgRun('initdb', ['-D', building, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  try {
    renameSync(building, dir);
  } catch {
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

let databases = 0;

/** `settings`: server settings beyond the test defaults (`name=value`, e.g. shared_preload_libraries). */
export async function startPostgres(settings: readonly string[] = []): Promise<RunningPostgres> {
  const source = await template();
  const parent = mkdtempSync(path.join(tmpdir(), 'ai-gateway-pg-'));
  handOver(parent);
  const data = path.join(parent, 'data');
  await (asRoot ? run('runuser', ['-u', 'postgres', '--', 'cp', '-a', source, data]) : run('cp', ['-a', source, data]));
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${parent}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
    ...settings.map((setting) => `-c ${setting}`),
  ].join(' ');
  const start = () => pgRun('pg_ctl', ['-D', data, '-o', options, '-l', path.join(parent, 'log'), '-w', '-t', '60', 'start']);
  await start();
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let running = true;
  return {
    port,
    url,
    async freshDatabase(label = 'test') {
      const name = `${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${++databases}`;
      const client = new Client({ connectionString: url() });
      await client.connect();
      try {
        // The name is made here from [a-z0-9_] only: safe as an identifier.
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async kill() {
      await pgRun('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async restart() {
      await start();
      running = true;
    },
    async stop() {
      if (running) await pgRun('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      running = false;
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** One cluster around the calling test file's tests. */
export function usePostgres(): { readonly server: RunningPostgres } {
  let server: RunningPostgres | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('PostgreSQL starts before the tests run');
      return server;
    },
  };
}
