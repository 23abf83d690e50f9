// functions/adapters/aws — what only the Lambda functions need of AWS: provider keys and the first
// admin credential from Secrets Manager, the chat gateway recomposed when the keys change, the
// Powertools logger, CloudWatch EMF metrics and X-Ray tracing. Lambda event conversions belong in
// adapters/lambda/; AWS-backed stores and services in their own folders (dynamodb/, bedrock/,
// alerts/ for SNS, usage/ for SQS).
//
// Secrets Manager, read once at start and then served from memory: a request never waits for
// Secrets Manager. When the cached text is older than the refresh interval, the next read starts
// one background refresh and keeps serving the cached value; a failed refresh keeps the last
// good value. Secret values never reach a log line or an error message.
import type { GetSecretValueCommand, GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '../../core/logger';

/** The one call made here; the SDK's SecretsManagerClient satisfies it, tests pass a recording fake. */
export interface SecretsClient {
  send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput>;
}

/** The SDK client, imported on first use so that a function without secrets never loads it. */
export async function createSecretsClient(): Promise<SecretsClient> {
  const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  // Region and credentials come from the Lambda environment (AWS_REGION, the execution role).
  return new SecretsManagerClient({});
}

/** Thrown when a secret's text is not what its reader expects. Its message never quotes the text. */
export class SecretFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretFormatError';
  }
}

/** The secret's current text (AWSCURRENT). `onSent`: called as the signed request leaves for Secrets Manager. */
export async function readSecretText(client: SecretsClient, secretId: string, onSent?: () => void): Promise<string> {
  const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const command = new GetSecretValueCommand({ SecretId: secretId });
  if (onSent) {
    // The last middleware before the HTTP handler: the request is built and signed.
    command.middlewareStack.add(
      (next) => (args) => {
        onSent();
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'secretRequestSent' },
    );
  }
  const out = await client.send(command);
  if (typeof out.SecretString !== 'string') throw new SecretFormatError(`secret ${secretId} has no text value (binary secrets are not supported)`);
  return out.SecretString;
}

/** Parses a secret's text as a JSON object without ever putting the text into an error. */
export function parseSecretJson(text: string, what: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the start of the text, which is the secret itself.
    throw new SecretFormatError(`${what}: the secret is not valid JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SecretFormatError(`${what}: the secret must be a JSON object`);
  return json as Record<string, unknown>;
}

export interface CachedSecretOptions<T> {
  secretId: string;
  /** What the secret holds, for log lines ("provider keys"). */
  label: string;
  /** Created on first use and kept (its connection pool is reused). */
  client: () => Promise<SecretsClient>;
  /** Turns the text into a value; throw SecretFormatError (never quoting the text) when it is unusable. */
  parse: (text: string) => T;
  /** After this long, the next read starts a background refresh. */
  refreshMs: number;
  /** After a failed refresh, the wait before the next attempt (default: min(30 s, refreshMs)). */
  retryMs?: number;
  equals: (a: T, b: T) => boolean;
  logger: Logger;
  now?: () => number;
}

type Listener<T> = (value: T) => void;

export class CachedSecret<T> {
  private value: { v: T } | undefined;
  /** When the next background refresh may start. */
  private dueAt = 0;
  private inFlight: Promise<void> | undefined;
  private client: Promise<SecretsClient> | undefined;
  private readonly listeners: Listener<T>[] = [];
  private readonly now: () => number;
  private readonly retryMs: number;

  constructor(private readonly opts: CachedSecretOptions<T>) {
    this.now = opts.now ?? Date.now;
    this.retryMs = opts.retryMs ?? Math.min(30_000, opts.refreshMs);
  }

  /**
   * Reads the secret now (cold start). Rejects when it cannot be read or parsed. `onSent` is called
   * once the request is on its way, for work that can overlap the round trip.
   */
  async load(onSent?: () => void): Promise<T> {
    const value = await this.fetch(onSent);
    this.accept(value);
    return value;
  }

  /**
   * The cached value, without waiting. When it is due for a refresh, one refresh starts in the
   * background; the value it brings is served from the next read on.
   */
  current(): T {
    if (!this.value) throw new Error(`${this.opts.label}: read before the secret was loaded`);
    if (this.inFlight === undefined && this.now() >= this.dueAt) this.inFlight = this.refresh();
    return this.value.v;
  }

  /** Called with the new value whenever a refresh brings a different one. */
  onChange(listener: Listener<T>): void {
    this.listeners.push(listener);
  }

  /** Settles when the background refresh in flight, if any, is done (tests, and callers about to freeze). */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  private async refresh(): Promise<void> {
    try {
      this.accept(await this.fetch());
    } catch (err) {
      this.dueAt = this.now() + this.retryMs;
      this.opts.logger.warn('secret refresh failed; serving the last value read', {
        secret: this.opts.label,
        secret_id: this.opts.secretId,
        error: describe(err),
        retry_in_ms: this.retryMs,
      });
    } finally {
      this.inFlight = undefined;
    }
  }

  private async fetch(onSent?: () => void): Promise<T> {
    this.client ??= this.opts.client();
    const text = await readSecretText(await this.client, this.opts.secretId, onSent);
    try {
      return this.opts.parse(text);
    } catch (err) {
      // Only our own format errors carry a message known not to quote the text.
      throw err instanceof SecretFormatError ? err : new SecretFormatError(`${this.opts.label}: the secret could not be read`);
    }
  }

  private accept(value: T): void {
    const previous = this.value;
    this.value = { v: value };
    this.dueAt = this.now() + this.opts.refreshMs;
    if (previous && !this.opts.equals(previous.v, value)) {
      this.opts.logger.info('secret changed', { secret: this.opts.label, secret_id: this.opts.secretId });
      for (const listener of this.listeners) listener(value);
    }
  }
}

/** An error's name and message: SDK errors (AccessDenied, ResourceNotFound, timeouts) hold no secret. */
function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
