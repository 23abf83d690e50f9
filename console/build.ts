// Placeholder until the console's own build lands: writes a minimal index.html into `outDir`.
import { mkdir, writeFile } from 'node:fs/promises';
export async function buildConsole(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(`${outDir}/index.html`, '<!doctype html><title>AI Gateway console</title><p>The console is not built yet.</p>\n');
}
