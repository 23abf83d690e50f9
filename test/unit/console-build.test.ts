// The console build: a few static files with hashed names, an index.html naming them, nothing
// fetched from elsewhere, and well under 150 KB gzipped.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConsole } from '../../console/build';

test('buildConsole writes hashed assets, an index.html that references them, under 150 KB gzipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-build-'));
  try {
    const { files, gzipBytes } = await buildConsole(dir);
    expect(readdirSync(dir).sort()).toEqual([...files].sort());
    const script = files.find((f) => f.endsWith('.js'));
    const stylesheet = files.find((f) => f.endsWith('.css'));
    expect(script).toMatch(/^main-[A-Z0-9]{8}\.js$/);
    expect(stylesheet).toMatch(/^main-[A-Z0-9]{8}\.css$/);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).toContain(`<script type="module" src="./${script}"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="./${stylesheet}">`);
    // Works offline and under a self-only CSP: no remote URL, no inline script or style.
    for (const f of files) expect(readFileSync(join(dir, f), 'utf8')).not.toMatch(/https?:\/\/(?!www\.w3\.org\/)[a-z]/i);
    expect(html).not.toMatch(/<script>|<style|style="/);
    expect(gzipBytes).toBeGreaterThan(10_000);
    expect(gzipBytes).toBeLessThan(150 * 1024);
    // The same sources build to the same names: a rebuild does not break cached pages.
    const again = await buildConsole(dir);
    expect(again.files).toEqual(files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
