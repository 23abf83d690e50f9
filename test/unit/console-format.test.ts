// The console shows money with every digit the API sends and the budget share as /v1/usage
// computes it.
import { budgetLevel, budgetUsedPct, formatAge, formatCount, formatPct, formatRate, formatUsd } from '../../console/src/format';

test('money keeps every digit the API rounded to, never in exponent form', () => {
  expect(formatUsd(0)).toBe('$0');
  expect(formatUsd(0.000405)).toBe('$0.000405');
  expect(formatUsd(1e-7)).toBe('$0.0000001');
  expect(formatUsd(0.0000000001)).toBe('$0.0000000001');
  expect(formatUsd(0.1234567891)).toBe('$0.1234567891');
  expect(formatUsd(1234567.5)).toBe('$1,234,567.5');
  expect(formatUsd(25)).toBe('$25');
  expect(formatUsd(-0.5)).toBe('-$0.5');
});

test('the budget share is computed as GET /v1/usage computes budget_used_pct', () => {
  expect(budgetUsedPct(0.000405, 0.0005)).toBe(81);
  expect(budgetUsedPct(1, 3)).toBe(33.333333);
  expect(budgetUsedPct(5, 0)).toBe(0);
  expect([budgetLevel(79.999999), budgetLevel(80), budgetLevel(99.9), budgetLevel(100), budgetLevel(250)]).toEqual(['ok', 'warn', 'warn', 'over', 'over']);
});

test('counts, rates and ages read plainly', () => {
  expect(formatCount(1234567)).toBe('1,234,567');
  expect(formatRate(0.1667)).toBe('16.67 %');
  expect(formatRate(0)).toBe('0 %');
  expect(formatPct(0.00162)).toBe('< 0.01 %');
  expect(formatPct(81)).toBe('81 %');
  const now = Date.parse('2026-12-03T12:00:00Z');
  expect(formatAge('2026-12-03T11:59:30Z', now)).toBe('just now');
  expect(formatAge('2026-12-03T11:00:00Z', now)).toBe('1 hour');
  expect(formatAge('2026-11-30T12:00:00Z', now)).toBe('3 days');
});
