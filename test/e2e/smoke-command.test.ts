// `npm run smoke` as a user runs it after a deploy, here against the local server (the same
// routes as the deployed stack) with the example routing file and a fake OpenAI behind it: every
// check passes with the right credentials, and a wrong key or admin password fails the check it
// breaks with a clear line and exit code 1, without printing either secret.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/constructs/gateway-function';
import { startOpenAIUpstream, type FakeUpstream } from '../fakes/openai-upstream';
import { DEFAULT_KEY, startGateway, type TestGateway } from '../helpers/gateway';

const ADMIN_PASSWORD = 'smoke-admin-password-1234';

let upstream: FakeUpstream;
let gw: TestGateway;
beforeAll(async () => {
  upstream = await startOpenAIUpstream();
  gw = await startGateway(
    { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, ADMIN_AUTH_ENABLED: 'true', ADMIN_PASSWORD },
    { routing: JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples/routing.json'), 'utf8')) as Record<string, unknown> },
  );
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

/** `npm run --silent smoke -- <args>` in a child process (the gateway answers from this one, so not spawnSync). */
function smoke(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'smoke', '--', ...args], { cwd: PROJECT_ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('every check passes against a working gateway: health, sync and streamed completion, usage, admin', async () => {
  const run = await smoke(['--url', `${gw.url}/`, '--key', DEFAULT_KEY, '--admin-user', 'admin', '--admin-password', ADMIN_PASSWORD]);
  const lines = run.stdout.trimEnd().split('\n');
  expect(lines.map((l) => l.split(':')[0])).toEqual([
    'PASS health',
    'PASS chat completion',
    'PASS streamed chat completion',
    'PASS usage',
    'PASS admin',
    'PASS smoke test',
  ]);
  // The example's "fast" alias went to its first target, the one configured provider.
  expect(lines[1]).toMatch(/^PASS chat completion: fast → openai\/\S+ in \d+ ms, \d+ tokens$/);
  expect(upstream.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => (JSON.parse(r.body) as { model: string }).model)).toEqual([
    'gpt-4o-mini',
    'gpt-4o-mini',
  ]);
  expect(lines[2]).toMatch(/^PASS streamed chat completion: fast → openai\/\S+: \d+ chunks, first after \d+ ms, finish_reason stop$/);
  expect(lines[3]).toMatch(/^PASS usage: tenant default: [1-9]\d* requests/);
  expect(lines[5]).toBe('PASS smoke test: 5 passed, 0 failed, 0 skipped');
  expect(run.code).toBe(0);
  expect(run.stdout + run.stderr).not.toContain(ADMIN_PASSWORD);
}, 60_000);

test('a wrong tenant key fails the checks that need it, with the reason; a wrong admin password fails the admin check; no secret printed', async () => {
  const wrongKey = 'gw-this-key-does-not-exist';
  const wrongPassword = 'not-the-admin-password';
  const run = await smoke(['--url', gw.baseURL, '--key', wrongKey, '--admin-user', 'admin', '--admin-password', wrongPassword]);
  expect(run.stdout.trimEnd().split('\n')).toEqual([
    expect.stringMatching(/^PASS health: status healthy/),
    'FAIL chat completion: 401 Incorrect API key provided.',
    'FAIL streamed chat completion: 401 Incorrect API key provided.',
    'FAIL usage: GET /v1/usage answered 401: Incorrect API key provided.',
    expect.stringMatching(/^FAIL admin: GET \/admin\/tenants as admin answered 401/),
    'FAIL smoke test: 1 passed, 4 failed, 0 skipped',
  ]);
  expect(run.code).toBe(1);
  expect(run.stdout + run.stderr).not.toContain(wrongKey);
  expect(run.stdout + run.stderr).not.toContain(wrongPassword);
}, 60_000);

test('without admin credentials the admin check is skipped; a gateway that is not there fails with the network error', async () => {
  const skipped = await smoke(['--url', gw.url, '--key', DEFAULT_KEY]);
  expect(skipped.stdout).toContain('SKIP admin: no --admin-user/--admin-password given\n');
  expect(skipped.code).toBe(0);

  const gone = await smoke(['--url', 'http://127.0.0.1:9', '--key', DEFAULT_KEY, '--timeout', '5']);
  expect(gone.stdout.split('\n')[0]).toMatch(/^FAIL health: fetch failed: /);
  expect(gone.code).toBe(1);
}, 60_000);

test('missing arguments: the usage line on stderr and exit code 1', async () => {
  const run = await smoke(['--url', gw.url]);
  expect(run.stderr).toBe(
    'smoke: --url and --key are required\nusage: npm run smoke -- --url <gateway url> --key <tenant key> ' +
      '[--admin-url <admin api url> --admin-user <name> --admin-password <password>] [--model <model>] [--timeout <seconds>]\n',
  );
  expect(run.code).toBe(1);
}, 30_000);
