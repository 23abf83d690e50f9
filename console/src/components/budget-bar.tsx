// A tenant's budget used this month: green, amber from 80 %, red from 100 %, with the numbers
// in text beside it (the colour is never the only signal).
import { budgetLevel, budgetUsedPct, formatPct, formatUsd } from '../format';

interface BudgetBarProps {
  spentUsd: number;
  budgetUsd: number;
  /** The share as the API reported it; computed the same way when the API did not send it. */
  usedPct?: number;
}

export function BudgetBar({ spentUsd, budgetUsd, usedPct }: BudgetBarProps) {
  if (budgetUsd <= 0) return <span class="muted">{formatUsd(spentUsd)} · no budget</span>;
  const pct = usedPct ?? budgetUsedPct(spentUsd, budgetUsd);
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
