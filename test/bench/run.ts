// `npm run bench`: seven sections, each process under test in its own process.
//   core        direct vs floor (bare proxy) vs gateway on a fake OpenAI upstream (core.ts)
//   translation gateway → each provider's fake vs direct to it, against the OpenAI pass-through (translation.ts)
//   storage     the gateway on memory vs on DynamoDB (dynalite) vs on PostgreSQL, with and without limits (storage.ts)
//   lambda      the chat Lambda bundle: size, SDK left to the runtime, cold init in fresh processes (lambda-bundle.ts)
//   outage      two gateways under a paced load while Redis, then DynamoDB, is killed for 5 s (outage.ts)
//   balance     gateway CPU per request on a route of 1 vs 8 deployments, weighted and least-latency (balance.ts)
//   telemetry   gateway CPU per request, throughput and p99 with OTLP export on (to a local sink) vs off, and off beside the export's work in another process (telemetry.ts)
// Env: BENCH_SECTIONS (default "core,translation,storage,lambda,outage,balance,telemetry"), BENCH_RUNS (default 3), BENCH_DURATION
// (seconds per core wrk run, default 5), BENCH_TRANSLATION_DURATION (seconds per translation wrk
// run, default min(3, BENCH_DURATION)), BENCH_GATEWAY_ENTRY (default dist/local.mjs; built with
// `npm run build` if missing), BENCH_COMPARE_ENTRY (another build's gateway entry, e.g. an older
// dist/local.mjs: core loads it too, as "before"), BENCH_OUTAGE_STORES (default "redis,dynamodb"),
// BENCH_OUTAGE_RATE (req/s, default 300). Prints a table of medians per section and writes .bench/results.json.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installExitHooks, runCommand, stopAll } from './children';
import { runCore, type CoreResult } from './core';
import { ensureGatewayBuilt, type BenchPaths } from './processes';
import { formatTable } from './report';
import { formatTranslationTable } from './translation-report';
import { runTranslation, type TranslationResult } from './translation';
import { formatStorageTable, runStorage, type StorageResult } from './storage';
import { formatLambdaTable, runLambdaBundle, type LambdaResult } from './lambda-bundle';
import { OUTAGE, runOutage, type OutageResult } from './outage';
import { formatOutageTable } from './outage-report';
import type { StoreKind } from './outage-stores';
import { allWarnings } from './warnings';
import { formatBalanceTable, runBalance, type BalanceResult } from './balance';
import { formatTelemetryTable, runTelemetry, type TelemetryResult } from './telemetry';

const ROOT = process.cwd(); // npm run always starts in the package root
const DIRS: BenchPaths = { root: ROOT, benchDir: path.join(ROOT, 'test', 'bench'), outDir: path.join(ROOT, '.bench') };
const GATEWAY_AUTH = 'Bearer gw-default-key';
const SECTIONS = ['core', 'translation', 'storage', 'lambda', 'outage', 'balance', 'telemetry'] as const;
type Section = (typeof SECTIONS)[number];

function intEnv(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return n;
}

function sectionsEnv(): Section[] {
  const raw = process.env.BENCH_SECTIONS;
  if (raw === undefined || raw.trim() === '') return [...SECTIONS];
  const names = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const bad = names.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (bad.length > 0 || names.length === 0) throw new Error(`BENCH_SECTIONS must list some of ${SECTIONS.join(', ')}; got "${raw}"`);
  // Always in the documented order, whatever order they were listed in.
  return SECTIONS.filter((s) => names.includes(s));
}

function outageStoresEnv(): StoreKind[] {
  const raw = process.env.BENCH_OUTAGE_STORES;
  if (raw === undefined || raw.trim() === '') return ['redis', 'dynamodb'];
  const names = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (names.length === 0 || names.some((s) => s !== 'redis' && s !== 'dynamodb'))
    throw new Error(`BENCH_OUTAGE_STORES must list redis and/or dynamodb; got "${raw}"`);
  return (['redis', 'dynamodb'] as const).filter((s) => names.includes(s));
}

async function main(): Promise<void> {
  installExitHooks();
  const started = Date.now();
  const sections = sectionsEnv();
  const runs = intEnv('BENCH_RUNS', 3, 1, 50);
  const durationS = intEnv('BENCH_DURATION', 5, 1, 120);
  // Shorter by default: the section has twelve paths to load, and the whole bench should stay near 5 minutes.
  const translationDurationS = intEnv('BENCH_TRANSLATION_DURATION', Math.min(3, durationS), 1, 120);
  // Three short rows per round: the difference sought is small, so rounds matter more than length.
  const balanceDurationS = Math.min(3, durationS);
  const gatewayEntry = path.resolve(ROOT, process.env.BENCH_GATEWAY_ENTRY || 'dist/local.mjs');
  const compareEntry = process.env.BENCH_COMPARE_ENTRY ? path.resolve(ROOT, process.env.BENCH_COMPARE_ENTRY) : undefined;
  if (compareEntry && !existsSync(compareEntry)) throw new Error(`BENCH_COMPARE_ENTRY ${compareEntry} does not exist (build that version first)`);
  if (!existsSync(path.join(DIRS.benchDir, 'run.ts'))) throw new Error(`run from the package root (no test/bench/run.ts under ${ROOT})`);
  // The lambda section alone needs neither wrk nor the local server's build; outage needs only the build (its client is in process).
  const loadSections = sections.some((x) => x !== 'lambda');
  const wrkSections = sections.some((x) => x !== 'lambda' && x !== 'outage');
  const outageStores = sections.includes('outage') ? outageStoresEnv() : [];
  const outageRate = intEnv('BENCH_OUTAGE_RATE', OUTAGE.rate, 10, 2000);
  const wrkCheck = wrkSections ? await runCommand('wrk', 'wrk', ['--version'], process.env, 5000) : { output: 'wrk' };
  if (!wrkCheck.output.includes('wrk')) throw new Error('wrk not found on PATH (apt-get install wrk)');
  mkdirSync(DIRS.outDir, { recursive: true });
  if (loadSections) await ensureGatewayBuilt(DIRS, gatewayEntry);

  const durations = [
    sections.includes('core') ? `core ${durationS}s` : '',
    sections.includes('translation') ? `translation ${translationDurationS}s` : '',
    sections.includes('storage') ? `storage ${durationS}s` : '',
    sections.includes('outage') ? `outage 20s per store, once` : '',
    sections.includes('balance') ? `balance ${balanceDurationS}s` : '',
    sections.includes('telemetry') ? `telemetry ${balanceDurationS}s` : '',
  ];
  console.log(
    `bench: sections ${sections.join(',')}; ${runs} run(s) x ${durations.filter(Boolean).join(', ')}; ${os.cpus().length} CPUs, node ${process.version}`,
  );
  const common = { dirs: DIRS, gatewayEntry, gatewayAuth: GATEWAY_AUTH, runs };
  let core: CoreResult | undefined;
  let translation: TranslationResult | undefined;
  let storage: StorageResult | undefined;
  let lambda: LambdaResult | undefined;
  let outage: OutageResult | undefined;
  let balance: BalanceResult | undefined;
  let telemetry: TelemetryResult | undefined;
  if (sections.includes('core')) core = await runCore({ ...common, durationS, compareEntry });
  if (sections.includes('translation')) {
    console.log('translation section: one gateway and one fake per provider');
    translation = await runTranslation({ ...common, durationS: translationDurationS });
  }
  if (sections.includes('storage')) {
    console.log('storage section: the gateway on memory, on DynamoDB (dynalite in its own process) and on PostgreSQL');
    storage = await runStorage({ ...common, durationS });
  }
  // Bundle size and cold init: no load generator, at least 5 fresh processes per variant.
  if (sections.includes('lambda')) lambda = await runLambdaBundle({ root: ROOT, outDir: DIRS.outDir, runs: Math.max(5, runs) });
  // One run per store (not BENCH_RUNS): each is a 20 s timeline with a kill and a restart.
  if (sections.includes('outage')) {
    console.log(`outage section: two gateways sharing ${outageStores.join(', then ')}, the store killed for 5 s under load`);
    outage = await runOutage({ dirs: DIRS, gatewayEntry, stores: outageStores, rate: outageRate });
  }
  if (sections.includes('balance')) {
    console.log(`balance section: one gateway, routes of 1 and 8 deployments on one fake`);
    balance = await runBalance({ ...common, durationS: balanceDurationS });
  }
  if (sections.includes('telemetry')) {
    console.log("telemetry section: gateways on one fake, OTLP export off and on (to a local sink), and off beside the export's work");
    telemetry = await runTelemetry({ ...common, durationS: balanceDurationS });
  }

  if (core) console.log(`\n${formatTable(core.summary, runs)}`);
  if (translation) console.log(`\n${formatTranslationTable(translation.summary, translation.config)}`);
  if (storage) console.log(`\n${formatStorageTable(storage)}`);
  if (lambda) console.log(`\n${formatLambdaTable(lambda)}`);
  if (outage) console.log(`\n${formatOutageTable(outage)}`);
  if (balance) console.log(`\n${formatBalanceTable(balance)}`);
  if (telemetry) console.log(`\n${formatTelemetryTable(telemetry)}`);
  const warnings = allWarnings();
  if (warnings.length > 0) console.log(`\n${warnings.length} warning(s); see above.`);

  const file = path.join(DIRS.outDir, 'results.json');
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadavg: os.loadavg(),
    elapsedS: (Date.now() - started) / 1000,
  };
  // The core section keeps its top-level keys (config, summary, raw); the translation section has its own key.
  const config = { sections, gatewayEntry, ...core?.config };
  const out = { meta, config, summary: core?.summary, warnings, raw: core?.raw, translation, storage, lambda, outage, balance, telemetry };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`results: ${path.relative(ROOT, file)} (${meta.elapsedS.toFixed(0)} s)`);
}

main()
  .catch((err: unknown) => {
    console.error(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
