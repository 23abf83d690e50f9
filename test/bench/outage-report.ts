// The outage section's tables: the client's view per store (against the issue's targets), then the
// usage totals check and the gateways' store log lines, then the definitions used.
import type { OutageResult, OutageRun } from './outage';

const pass = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
const usd = (x: number): string => x.toFixed(9);

function statuses(r: OutageRun): string {
  const entries = Object.entries(r.figures.statuses).sort((a, b) => b[1] - a[1]);
  return entries.map(([k, n]) => `${k}: ${n}`).join(', ');
}

function clientRow(r: OutageRun, t: OutageResult['config']['targets']): string {
  const f = r.figures;
  const rec =
    f.recoveryS === null
      ? 'never (MISSED)'
      : `${f.recoveryS.toFixed(2)} ${pass(f.recoveryS <= t.recoveryS)}${f.abnormalAfterRecovery > 0 ? `, ${f.abnormalAfterRecovery} window(s) off later` : ''}`;
  const load = `${r.loadavg.before.map((x) => x.toFixed(2)).join(' ')} → ${r.loadavg.after.map((x) => x.toFixed(2)).join(' ')}`;
  const cpu = `${r.cpu.machineBusyCores.toFixed(2)} / ${r.cpu.processCores.map((x) => x.toFixed(2)).join(' + ')} / ${r.storeCoresBeforeKill.toFixed(2)}`;
  return (
    `| ${r.store} | ${f.ok2xxPct.toFixed(2)} % ${pass(f.ok2xxPct >= t.ok2xxPct)} | ` +
    `${statuses(r)} | ${f.before.p50Ms.toFixed(1)} / ${f.before.p99Ms.toFixed(1)} | ` +
    `${f.during.p99Ms.toFixed(1)} | ${f.addedP99Ms.toFixed(1)} ${pass(f.addedP99Ms <= t.addedP99Ms)} | ` +
    `${rec} | ${((r.times.readyMs - r.times.restartMs) / 1000).toFixed(2)} | ` +
    `${r.sawStoreBackMs.map((x) => (x === null ? '–' : String(x))).join(', ')} | ` +
    `${f.client.maxLateMs.toFixed(1)} | ${load} | ${cpu} |`
  );
}

function usageRow(r: OutageRun): string {
  const u = r.usage;
  const [a, b] = r.logs;
  const lines = (l: typeof a): string => (l ? `${l.storeUnavailable} / ${l.storeAvailableAgain}` : '–');
  const counted = u.counted ? `${usd(u.counted.costUsd)}` : 'no read';
  const requests = u.counted ? String(u.counted.requests) : 'no read';
  const diff = u.counted
    ? `cost ${u.costDiffUsd >= 0 ? '+' : ''}${usd(u.costDiffUsd)}, requests ${u.requestDiff >= 0 ? '+' : ''}${u.requestDiff}`
    : 'no successful read';
  const other =
    u.countedOther && u.counted && (u.countedOther.requests !== u.counted.requests || Math.abs(u.countedOther.costUsd - u.counted.costUsd) > 1e-9)
      ? `; B reads ${usd(u.countedOther.costUsd)} / ${u.countedOther.requests}`
      : u.countedOther
        ? ''
        : '; no read on B';
  const failed = u.failedReads > 0 ? `; ${u.failedReads} failed read(s), first: ${u.firstFailure ?? ''}` : '';
  return (
    `| ${r.store} | ${usd(u.seen.costUsd)} / ${counted} | ${u.seen.requests} / ${requests} | ` +
    `${u.match ? 'yes' : `NO (${diff})`}${other}${failed} | ${u.settleS.toFixed(1)} | ${lines(a)} | ${lines(b)} |`
  );
}

/** The gateways' other warn/error lines during the run, by message (logs in .bench/). */
function otherMessages(r: OutageRun): string[] {
  return r.logs.map((l, i) => {
    const entries = Object.entries(l.otherMessages).sort((x, y) => y[1] - x[1]);
    return `${r.store} ${i === 0 ? 'A' : 'B'} other log lines: ${entries.length === 0 ? 'none' : entries.map(([m, n]) => `${n}× ${m}`).join('; ')}`;
  });
}

export function formatOutageTable(res: OutageResult): string {
  const c = res.config;
  const t = c.targets;
  return [
    `outage (${c.rate} req/s for ${c.durationS} s over two gateways; store SIGKILLed at ${c.killAtMs / 1000} s, restarted at ${c.restartAtMs / 1000} s; ` +
      `STORE_TIMEOUT ${c.storeTimeoutMs} ms; targets: 2xx ≥ ${t.ok2xxPct} %, added p99 ≤ ${t.addedP99Ms} ms, recovery ≤ ${t.recoveryS} s)`,
    `gateway built from ${res.source.commit}` +
      `${res.source.uncommittedFiles.length > 0 ? ` plus ${res.source.uncommittedFiles.length} uncommitted file(s) under functions/ and bin/` : ''}`,
    '| store | 2xx | statuses | before p50 / p99 ms | during p99 ms | added p99 ms | recovery s | ' +
      'restart → ready s | A, B saw it back ms | client max lag ms | load avg before → after | busy cores: machine / A + B + client / store before kill |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...res.runs.map((r) => clientRow(r, t)),
    '',
    'usage totals (GET /v1/usage after settling vs what the clients saw, warm-up included) and gateway log lines',
    '| store | cost seen / counted USD | 2xx seen / requests counted | match (1e-9) | settle s | A: store down / back lines | B: store down / back lines |',
    '|---|---|---|---|---|---|---|',
    ...res.runs.map(usageRow),
    ...res.runs.flatMap(otherMessages),
    ...res.runs.map(
      (r) =>
        `${r.store} warm-up (${res.config.warmupS} s at the same rate; not in the figures above, in the usage check): ` +
        `${r.warmup.ok2xx} of ${r.warmup.requests} 2xx, ` +
        `p50 / p99 ${r.warmup.p50Ms} / ${r.warmup.p99Ms} ms${r.warmup.ok2xx < r.warmup.requests ? `; ${JSON.stringify(r.warmup.statuses)}` : ''}`,
    ),
    '',
    `Phases by send time: before = [0, kill), during = [kill, store ready again), after = the rest. added p99 = p99 during − p99 before.`,
    `Recovery: from the restarted store accepting connections, the first ${c.windowMs} ms window (by send time) whose requests are all 2xx`,
    `and whose p99 is ≤ ${c.normalFactor}× the p99 before the outage; 0 = the first window after ready. ` +
      `Pre-outage windows passing the same test: ${res.runs.map((r) => `${r.store} ${r.figures.normalBeforePct} %`).join(', ')}.`,
  ].join('\n');
}
