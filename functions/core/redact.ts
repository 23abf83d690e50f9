// What must never leave the process: credentials (and, in logs, prompt text). The one redaction
// helper: the loggers use it as their JSON replacer, error shaping on every message a client or
// an attempt list sees. Runtime-free, so the core and every adapter can use it.

export const REDACTED = '[REDACTED]';

/** Field names whose values are credentials or prompt/completion text (compared in lower case). */
const SECRET_FIELDS = new Set([
  'authorization',
  'x-api-key',
  'api_key',
  'apikey',
  'api-key',
  'password',
  'password_hash',
  'secret',
  'secretstring',
  'openai_api_key',
  'anthropic_api_key',
  'token',
  'access_token',
  'cookie',
  'set-cookie',
  'messages',
  'prompt',
  'system',
  'input',
  'content',
  'contents',
  'completion',
  'choices',
]);

/**
 * Key-shaped text inside any string: provider keys (sk-..., sk-ant-..., sk-proj-...), tenant keys
 * (gw-...), bearer/basic credentials, AWS access key ids (AKIA long-term, ASIA temporary).
 * The prefix is kept so a reader still knows what kind of credential was there.
 */
const KEY_PATTERNS: readonly RegExp[] = [
  /\b(sk-(?:ant-|proj-)?)[A-Za-z0-9_-]{6,}/g,
  /\b(gw-)[A-Za-z0-9_-]{6,}/g,
  /\b(Bearer\s+|Basic\s+)[A-Za-z0-9._~+/=-]{6,}/gi,
  /\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g,
];

/** Every text a KEY_PATTERNS entry matches contains one of these: one scan rules out all four replaces. */
const KEY_HINT = /sk-|gw-|bearer|basic|AKIA|ASIA/i;

export function redactText(text: string): string {
  if (!KEY_HINT.test(text)) return text;
  let out = text;
  for (const pattern of KEY_PATTERNS) out = out.replace(pattern, `$1${REDACTED}`);
  return out;
}

/** A JSON.stringify replacer: secret fields become REDACTED, key-shaped text inside strings is masked. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && SECRET_FIELDS.has(key.toLowerCase()) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'string') return redactText(value);
  return value;
}
