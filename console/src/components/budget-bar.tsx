// A tenant's budget used this month: green, amber from 80 %, red from 100 %, with the numbers
// in text beside it (the colour is never the only signal).
import { budgetLevel, budgetUsedPct, formatPct, formatUsd } from '../format';

export function BudgetBar({ spentUsd, budgetUsd }: { spentUsd: number; budgetUsd: number }) {
  if (budgetUsd <= 0) return <span class="muted">{formatUsd(spentUsd)} · no budget</span>;
  const pct = budgetUsedPct(spentUsd, budgetUsd);
  const level = budgetLevel(pct);
  const label = `${formatUsd(spentUsd)} of ${formatUsd(budgetUsd)} (${formatPct(pct)})`;
  return (
    <div class="budget" data-level={level}>
      <div class="budget-track" aria-hidden="true">
        <div class="budget-fill" style={{ width: `${Math.min(pct, 100)}%` }} />
      </div>
      <span class="budget-text">
        {label}
        {level === 'over' ? ' · over budget' : level === 'warn' ? ' · nearly spent' : ''}
      </span>
    </div>
  );
}
