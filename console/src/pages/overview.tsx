// Overview: this month across tenants, the spend per day, the top tenants and models, and each
// provider's breaker.
import { api } from '../api';
import { DayChart } from '../components/chart';
import { ErrorNotice, Loading } from '../components/error-notice';
import { ProviderList } from '../components/providers';
import { EmptyRow, Table } from '../components/table';
import { formatCount, formatRate, formatTime, formatUsd } from '../format';
import { useLoad } from '../load';
import { href } from '../router';
import type { Overview } from '../types';

export function OverviewPage() {
  const overview = useLoad(() => api.get<Overview>('/admin/overview'), []);
  const o = overview.data;
  return (
    <section aria-labelledby="overview-title">
      <div class="page-head">
        <h1 id="overview-title">Overview</h1>
        <button type="button" onClick={overview.reload}>
          Refresh
        </button>
      </div>
      <ErrorNotice error={overview.error} />
      {!o && overview.loading && <Loading what="this month's usage" />}
      {o && (
        <>
          <p class="muted">
            {formatTime(o.from)} – {formatTime(o.to)}
          </p>
          <dl class="stats">
            <Stat label="Spend" value={formatUsd(o.totals.cost_usd)} testId="stat-spend" />
            <Stat label="Requests" value={formatCount(o.totals.request_count)} testId="stat-requests" />
            <Stat label="Cache hit rate" value={formatRate(o.totals.cache_hit_rate)} testId="stat-cache" />
            <Stat label="Error rate" value={formatRate(o.totals.error_rate)} testId="stat-errors" />
          </dl>
          <DayChart title="Spend per day" points={o.per_day.map((d) => ({ day: d.date, value: d.cost_usd }))} format={formatUsd} />
          <div class="columns">
            <Table caption="Top tenants by cost" head={['Tenant', 'Cost', 'Requests']}>
              {o.top_tenants.length === 0 && <EmptyRow columns={3} text="No usage yet this month." />}
              {o.top_tenants.map((t) => (
                <tr key={t.tenant_id}>
                  <td>
                    <a href={href.tenant(t.tenant_id)}>{t.name || t.tenant_id}</a>
                  </td>
                  <td class="num">{formatUsd(t.cost_usd)}</td>
                  <td class="num">{formatCount(t.request_count)}</td>
                </tr>
              ))}
            </Table>
            <Table caption="Top models by cost" head={['Model', 'Cost', 'Requests']}>
              {o.top_models.length === 0 && <EmptyRow columns={3} text="No usage yet this month." />}
              {o.top_models.map((m) => (
                <tr key={m.model}>
                  <td>{m.model}</td>
                  <td class="num">{formatUsd(m.cost_usd)}</td>
                  <td class="num">{formatCount(m.request_count)}</td>
                </tr>
              ))}
            </Table>
          </div>
        </>
      )}
      <ProviderList />
    </section>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div class="stat">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}
