// Runs the fake OpenAI upstream in its own process so its CPU is not shared with the load
// generator or the proxy under test. Prints its base URL (".../v1") as the first stdout line,
// then accepts one JSON command per stdin line: {"behaviour": {...} | null}, answered "ok".
import { createInterface } from 'node:readline';
import { type Behaviour, startOpenAIUpstream } from '../fakes/openai-upstream';

async function main(): Promise<void> {
  const fake = await startOpenAIUpstream({ apiKey: 'sk-test' });
  process.stdout.write(`${fake.url}\n`);

  createInterface({ input: process.stdin }).on('line', (line) => {
    try {
      const cmd = JSON.parse(line) as { behaviour?: Behaviour | null };
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
