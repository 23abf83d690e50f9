// How numbers and times appear. Money is shown with every digit the API sent (it rounds to
// 1e-10 USD, as /v1/usage does) and is never rounded again here.

const groupThousands = (digits: string): string => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** 0.0001234 → "$0.0001234"; 1234.5 → "$1,234.5"; never in exponent form. */
export function formatUsd(usd: number): string {
  const sign = usd < 0 ? '-' : '';
  const fixed = Math.abs(usd)
    .toFixed(10)
    .replace(/\.?0+$/, '');
  const [whole = '0', fraction] = fixed.split('.');
  return `${sign}$${groupThousands(whole)}${fraction === undefined ? '' : `.${fraction}`}`;
}

export function formatCount(n: number): string {
  return groupThousands(String(n));
}

/** The budget share exactly as GET /v1/usage computes `budget_used_pct`. */
export function budgetUsedPct(spentUsd: number, budgetUsd: number): number {
  return budgetUsd > 0 ? Math.round((spentUsd / budgetUsd) * 100 * 1e6) / 1e6 : 0;
}

/** A percentage already in percent units: at most two decimals, for reading; a sliver above 0 is not shown as 0. */
export function formatPct(pct: number): string {
  if (pct > 0 && pct < 0.01) return '< 0.01 %';
  return `${Number(pct.toFixed(2))} %`;
}

/** A 0–1 rate (cache hits, errors) as a percentage. */
export const formatRate = (rate: number): string => formatPct(rate * 100);

/** "2026-12-03 17:20 UTC". */
export function formatTime(isoText: string): string {
  const ms = Date.parse(isoText);
  if (Number.isNaN(ms)) return isoText;
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "3 days", "5 hours", "12 minutes", "just now". */
export function formatAge(isoText: string, nowMs: number): string {
  const ms = nowMs - Date.parse(isoText);
  if (Number.isNaN(ms)) return '';
  const minutes = Math.floor(ms / 60_000);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes < 1) return 'just now';
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return plural(hours, 'hour');
  return plural(Math.floor(hours / 24), 'day');
}

export type BudgetLevel = 'ok' | 'warn' | 'over';

/** Amber from 80 %, red from 100 %. */
export function budgetLevel(pct: number): BudgetLevel {
  return pct >= 100 ? 'over' : pct >= 80 ? 'warn' : 'ok';
}
