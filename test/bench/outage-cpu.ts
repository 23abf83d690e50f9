// How busy the machine was during an outage run, next to the gateways' own share: the bench shares
// two cores with other work, and a latency figure means little without knowing how much of the
// CPU the processes under test actually had.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { cpuTimeMs } from './procstat';

export interface CpuSnapshot {
  atMs: number;
  /** Machine-wide busy and total jiffies from /proc/stat (steal counts as busy: the core was not ours). */
  busy: number;
  total: number;
  /** CPU ms of each watched process. */
  processMs: number[];
}

export interface CpuUse {
  /** Average busy cores of the whole machine over the interval. */
  machineBusyCores: number;
  /** Average cores each watched process used, in the order given. */
  processCores: number[];
}

function machineJiffies(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpu;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

export function cpuSnapshot(pids: number[]): CpuSnapshot {
  return { atMs: performance.now(), ...machineJiffies(), processMs: pids.map((p) => cpuTimeMs(p)) };
}

export function cpuUse(a: CpuSnapshot, b: CpuSnapshot, cores: number): CpuUse {
  const wallMs = b.atMs - a.atMs;
  const share = b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  return {
    machineBusyCores: r2(share * cores),
    processCores: b.processMs.map((x, i) => (wallMs > 0 ? r2((x - (a.processMs[i] ?? 0)) / wallMs) : 0)),
  };
}
