// Secrets Manager secrets of the deployed stack: the provider API keys and the first admin credential.
import * as v from 'valibot';
import { MAX_TIMEOUT_SECONDS, positiveInt, readEnv, secretArn, type Env } from './env';

export interface SecretSettings {
  /**
   * Secrets Manager secrets (deployed stack): provider API keys, read at start and re-read every
   * refreshMs; the generated first admin credential.
   */
  secrets: { providerSecretArn?: string; providerSecretRefreshMs: number; adminSecretArn?: string };
}

const SecretEnv = v.object({
  PROVIDER_SECRET_ARN: v.optional(secretArn),
  PROVIDER_SECRET_REFRESH: v.optional(positiveInt(MAX_TIMEOUT_SECONDS), '300'),
  ADMIN_SECRET_ARN: v.optional(secretArn),
});

export function loadSecretSettings(env: Env): SecretSettings {
  const e = readEnv(env, SecretEnv);
  return {
    secrets: {
      providerSecretArn: e.PROVIDER_SECRET_ARN,
      providerSecretRefreshMs: e.PROVIDER_SECRET_REFRESH * 1000,
      adminSecretArn: e.ADMIN_SECRET_ARN,
    },
  };
}
