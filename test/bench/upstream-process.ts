// Runs one fake upstream in its own process so its CPU is not shared with the load generator or
// the proxy under test. argv[2] names the provider (openai (default), anthropic, bedrock, ollama).
// Prints its base URL as the first stdout line (OpenAI: ".../v1"; the others: the origin), then
// accepts one JSON command per stdin line: {"behaviour": {...} | null}, answered "ok", or
// {"lastPath": true}, answered "path <the path of the last request received>" ("path " when none).
import { createInterface } from 'node:readline';
import { startAnthropicUpstream } from '../fakes/anthropic-upstream';
import { startBedrockUpstream } from '../fakes/bedrock-upstream';
import type { Behaviour, FakeUpstream } from '../fakes/fixtures';
import { startOllamaUpstream } from '../fakes/ollama-upstream';
import { startOpenAIUpstream } from '../fakes/openai-upstream';
import { isProviderName, type ProviderName } from './provider-names';

function start(provider: ProviderName): Promise<FakeUpstream> {
  switch (provider) {
    case 'openai':
      return startOpenAIUpstream({ apiKey: 'sk-test' });
    case 'anthropic':
      return startAnthropicUpstream({ apiKey: 'sk-ant-test' });
    case 'bedrock':
      return startBedrockUpstream();
    case 'ollama':
      return startOllamaUpstream();
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2] ?? 'openai';
  if (!isProviderName(arg)) throw new Error(`unknown provider "${arg}"`);
  const fake = await start(arg);
  process.stdout.write(`${fake.url}\n`);

  createInterface({ input: process.stdin }).on('line', (line) => {
    try {
      const cmd = JSON.parse(line) as { behaviour?: Behaviour | null; lastPath?: true };
      if (cmd.lastPath) {
        process.stdout.write(`path ${fake.requests.at(-1)?.path ?? ''}\n`);
        return;
      }
      fake.setBehaviour(cmd.behaviour ?? null);
      process.stdout.write('ok\n');
    } catch (err) {
      process.stdout.write(`error ${(err as Error).message}\n`);
    }
  });

  // Exit at once: the OS closes the sockets, and close() would wait for idle keep-alive clients.
  const shutdown = (): void => process.exit(0);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // The parent closing our stdin means it is gone: do not outlive it.
  process.stdin.on('end', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
