// The first admin credential the stack generates into Secrets Manager:
// {"username": "admin", "password": "..."}. Read once at the admin function's cold start.
import { createSecretsClient, parseSecretJson, readSecretText, SecretFormatError, type SecretsClient } from './secrets';

export interface AdminCredential {
  username: string;
  password: string;
}

function parseAdminCredential(text: string): AdminCredential {
  const json = parseSecretJson(text, 'admin credential');
  const username = json.username ?? 'admin';
  if (typeof username !== 'string' || username.trim() === '') throw new SecretFormatError('admin credential: username must be a non-empty string');
  if (typeof json.password !== 'string' || json.password === '') throw new SecretFormatError('admin credential: password must be a non-empty string');
  return { username: username.trim(), password: json.password };
}

export async function readAdminCredential(secretId: string, client: () => Promise<SecretsClient> = createSecretsClient): Promise<AdminCredential> {
  const text = await readSecretText(await client(), secretId);
  return parseAdminCredential(text);
}
