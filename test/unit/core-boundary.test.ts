// The core's boundary: it runs on any server and any runtime because it imports nothing at run
// time but `node:` modules and itself. Settings types may come from functions/config (erased at
// build), never its parsing code, nor any package (AWS SDK, middy, valibot, ioredis).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const CORE = path.resolve(__dirname, '../../functions/core');

function coreFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return coreFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every import and export-from of a file: its specifier, and whether it is type-only. */
function imports(source: string): Array<{ spec: string; typeOnly: boolean }> {
  const found: Array<{ spec: string; typeOnly: boolean }> = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'([^']+)'/gm;
  for (const m of source.matchAll(statement)) found.push({ spec: m[4] as string, typeOnly: m[2] !== undefined });
  for (const m of source.matchAll(/import\(\s*'([^']+)'\s*\)/g)) found.push({ spec: m[1] as string, typeOnly: false });
  return found;
}

describe('functions/core', () => {
  const files = coreFiles(CORE);

  it('has modules to check', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('imports at run time only node: modules and its own modules', () => {
    const outside: string[] = [];
    for (const file of files) {
      for (const { spec, typeOnly } of imports(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('node:')) continue;
        const inCore = spec.startsWith('.') && path.resolve(path.dirname(file), spec).startsWith(CORE + path.sep);
        if (inCore || typeOnly) continue;
        outside.push(`${path.relative(CORE, file)} → ${spec}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('takes only types from outside, and those only from the settings', () => {
    const typeImports = files.flatMap((file) =>
      imports(readFileSync(file, 'utf8'))
        .filter(({ spec, typeOnly }) => typeOnly && spec.startsWith('.') && !path.resolve(path.dirname(file), spec).startsWith(CORE + path.sep))
        .map(({ spec }) => path.relative(path.resolve(CORE, '..'), path.resolve(path.dirname(file), spec))),
    );
    expect([...new Set(typeImports)]).toEqual(['config']);
  });
});
