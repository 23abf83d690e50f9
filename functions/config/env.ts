// Environment variables read through valibot schemas. A blank value counts as unset and values
// are trimmed; the first bad variable fails with "<NAME> <what it must be>; got "<value>"".
// Each schema's message is that "must be …" phrase: readEnv puts the name and value around it.
import * as v from 'valibot';
import { ConfigError } from './error';

export type Env = Record<string, string | undefined>;

/** Timeouts are capped at one day: longer ones overflow Node's timers, which then fire at once. */
export const MAX_TIMEOUT_SECONDS = 86_400;

/** Validates the variables `schema` names (and only those) and returns their parsed values. */
export function readEnv<TEntries extends v.ObjectEntries>(
  env: Env,
  schema: v.ObjectSchema<TEntries, undefined>,
): v.InferOutput<v.ObjectSchema<TEntries, undefined>> {
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(schema.entries)) {
    const value = env[name]?.trim();
    input[name] = value === '' ? undefined : value;
  }
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const name = String(issue.path?.[0]?.key);
  throw new ConfigError(`${name} ${issue.message}; got "${env[name]}"`);
}

export const positiveInt = (max = Number.MAX_SAFE_INTEGER) =>
  v.message(v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(1), v.maxValue(max)), `must be a positive integer up to ${max}`);

/** A count or limit where 0 means none (unlimited), optionally bounded. */
export const nonNegativeInt = (max?: number) =>
  v.message(
    v.pipe(v.string(), v.transform(Number), v.safeInteger(), v.minValue(0), v.maxValue(max ?? Number.MAX_SAFE_INTEGER)),
    max === undefined ? 'must be a whole number ≥ 0 (0: unlimited)' : `must be a whole number from 0 to ${max}`,
  );

export const nonNegativeNumber = (meaningOfZero: string) =>
  v.message(v.pipe(v.string(), v.transform(Number), v.finite(), v.minValue(0)), `must be a number ≥ 0 (0: ${meaningOfZero})`);

export const boolean = v.message(
  v.pipe(
    v.string(),
    v.toLowerCase(),
    v.picklist(['true', '1', 'false', '0']),
    v.transform((s) => s === 'true' || s === '1'),
  ),
  'must be true or false',
);

/** One of `options`, in any case; read as lower case. */
export const oneOf = <const T extends readonly string[]>(options: T, message = `must be one of ${options.join(', ')}`) =>
  v.message(v.pipe(v.string(), v.toLowerCase(), v.picklist(options)), message);

const hasProtocol = (protocols: readonly string[]) => (raw: string) => protocols.includes(new URL(raw).protocol);

export const httpUrl = v.pipe(v.string(), v.url('must be an absolute http(s) URL'), v.check(hasProtocol(['http:', 'https:']), 'must use http or https'));

/** A provider's base URL, without trailing slashes (paths are appended to it). */
export const baseUrl = v.pipe(
  httpUrl,
  v.transform((raw) => raw.replace(/\/+$/, '')),
);

export const redisUrl = v.pipe(
  v.string(),
  v.url('must look like redis://host:6379'),
  v.check(hasProtocol(['redis:', 'rediss:']), 'must use redis:// or rediss://'),
);

export const tableName = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name'));

export const snsTopicArn = v.pipe(
  v.string(),
  v.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/, 'must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)'),
);

/** The deployed stack passes ARNs; a bare secret name is refused so a typo fails at start. */
export const secretArn = v.pipe(
  v.string(),
  v.regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/,
    'must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  ),
);
