// Smoke test entry: `npm run smoke -- --url <gateway url> --key <tenant key> [--admin-url <url>
// --admin-user <name> --admin-password <password>] [--model <model or alias>] [--timeout <s>]`.
// One PASS/FAIL/SKIP line per check on stdout, a summary, and exit code 0 only when none failed.
// The checks are in smoke-checks.ts; this file holds the arguments and the exit code.
import { parseArgs } from 'node:util';
import { runSmokeChecks, type SmokeOptions } from './smoke-checks';

const USAGE =
  'usage: npm run smoke -- --url <gateway url> --key <tenant key> ' +
  '[--admin-url <admin api url> --admin-user <name> --admin-password <password>] [--model <model>] [--timeout <seconds>]';

/** The example routing file's alias: three providers deep, so any configured one answers. */
const DEFAULT_MODEL = 'fast';

function options(argv: string[]): SmokeOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      'admin-url': { type: 'string' },
      'admin-user': { type: 'string' },
      'admin-password': { type: 'string' },
      model: { type: 'string' },
      timeout: { type: 'string' },
    },
    strict: true,
  });
  if (!values.url || !values.key) throw new Error('--url and --key are required');
  if (!/^https?:\/\//.test(values.url)) throw new Error('--url must be an http(s) URL');
  if (values['admin-url'] !== undefined && !/^https?:\/\//.test(values['admin-url'])) throw new Error('--admin-url must be an http(s) URL');
  if ((values['admin-user'] === undefined) !== (values['admin-password'] === undefined)) {
    throw new Error('--admin-user and --admin-password go together');
  }
  const timeout = Number(values.timeout ?? '60');
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error('--timeout must be a number of seconds');
  return {
    url: values.url,
    key: values.key,
    adminUrl: values['admin-url'],
    adminUser: values['admin-user'],
    adminPassword: values['admin-password'],
    model: values.model ?? DEFAULT_MODEL,
    timeoutMs: timeout * 1000,
  };
}

async function main(): Promise<void> {
  let opts: SmokeOptions;
  try {
    opts = options(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`smoke: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(1);
  }
  const results = await runSmokeChecks(opts, (r) => process.stdout.write(`${r.outcome} ${r.name}: ${r.detail}\n`));
  const count = (outcome: string): number => results.filter((r) => r.outcome === outcome).length;
  const failed = count('FAIL');
  process.stdout.write(`${failed === 0 ? 'PASS' : 'FAIL'} smoke test: ${count('PASS')} passed, ${failed} failed, ${count('SKIP')} skipped\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}

void main();
