// `tsx console/build-cli.ts [outDir]`: the console build behind `npm run build`.
import { buildConsole } from './build';

const outDir = process.argv[2] ?? 'dist/console';
buildConsole(outDir).then(
  ({ files, gzipBytes }) => console.log(`console: ${files.length} files in ${outDir}, ${(gzipBytes / 1024).toFixed(1)} KB gzipped`),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
