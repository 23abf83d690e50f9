// Builds the admin console into `outDir`: one minified script and one stylesheet with content
// hashes in their names (served as immutable), an index.html that names them (served no-cache),
// and an icon. Nothing is loaded from elsewhere at run time.
import { gzipSync } from 'node:zlib';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

export interface ConsoleBuild {
  /** Every file written, relative to outDir. */
  files: string[];
  /** Their total size gzipped (what a browser downloads). */
  gzipBytes: number;
}

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#102a43"/><path d="M4 11l4-7 4 7z" fill="#ffbf47"/></svg>\n`;

function indexHtml(script: string, stylesheet: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>AI Gateway console</title>
<link rel="icon" href="./favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="./${stylesheet}">
<script type="module" src="./${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The AI Gateway console needs JavaScript.</noscript>
</body>
</html>
`;
}

export async function buildConsole(outDir: string): Promise<ConsoleBuild> {
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(__dirname, 'src', 'main.tsx')],
    outdir: outDir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    write: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const script = outputs.find((f) => f.endsWith('.js'));
  const stylesheet = outputs.find((f) => f.endsWith('.css'));
  if (!script || !stylesheet) throw new Error(`console build: expected one script and one stylesheet, got ${outputs.join(', ')}`);
  await writeFile(join(outDir, 'index.html'), indexHtml(script, stylesheet));
  await writeFile(join(outDir, 'favicon.svg'), ICON);
  const files = [script, stylesheet, 'index.html', 'favicon.svg'];
  let gzipBytes = 0;
  for (const f of files) gzipBytes += gzipSync(await readFile(join(outDir, f)), { level: 9 }).length;
  return { files, gzipBytes };
}
