// One tenant: this month's usage per day and per model (chart and tables), its recent budget
// alerts, and its keys' prefixes and ages.
import { api, tenantPath } from '../api';
import { BarList } from '../components/bar-list';
import { BudgetBar } from '../components/budget-bar';
import { DayChart } from '../components/chart';
import { ErrorNotice, Loading } from '../components/error-notice';
import { EmptyRow, Table } from '../components/table';
import { formatAge, formatCount, formatTime, formatUsd } from '../format';
import { useLoad } from '../load';
import { href } from '../router';
import type { DayUsage, ModelUsage, Tenant, TenantAlerts, TenantUsage } from '../types';
import { TenantActions } from './tenant-actions';

interface Detail {
  tenant: Tenant;
  byDay: TenantUsage<DayUsage>;
  byModel: TenantUsage<ModelUsage>;
  alerts: TenantAlerts | null;
}

async function loadDetail(id: string): Promise<Detail> {
  const base = tenantPath(id);
  const [tenant, byDay, byModel, alerts] = await Promise.all([
    api.get<Tenant>(base),
    api.get<TenantUsage<DayUsage>>(`${base}/usage?group_by=day`),
    api.get<TenantUsage<ModelUsage>>(`${base}/usage?group_by=model`),
    // Alerts are a convenience: the page still shows when they cannot be read.
    api.get<TenantAlerts>(`${base}/alerts`).catch(() => null),
  ]);
  return { tenant, byDay, byModel, alerts };
}

export function TenantDetailPage({ id }: { id: string }) {
  const detail = useLoad(() => loadDetail(id), [id]);
  const d = detail.data;
  return (
    <section aria-labelledby="tenant-title">
      <p>
        <a href={href.tenants}>← All tenants</a>
      </p>
      <ErrorNotice error={detail.error} />
      {!d && detail.loading && <Loading what="the tenant" />}
      {d && (
        <>
          <div class="page-head">
            <h1 id="tenant-title">{d.tenant.name}</h1>
            <button type="button" onClick={detail.reload}>
              Refresh
            </button>
          </div>
          <p class="muted mono">{d.tenant.id}</p>
          <TenantActions tenant={d.tenant} onChanged={detail.reload} onDeleted={() => location.assign(href.tenants)} />
          <h2>This month</h2>
          <dl class="stats">
            <div class="stat">
              <dt>Spend</dt>
              <dd data-testid="tenant-spend">{formatUsd(d.byDay.totals.cost_usd)}</dd>
            </div>
            <div class="stat">
              <dt>Requests</dt>
              <dd data-testid="tenant-requests">{formatCount(d.byDay.totals.request_count)}</dd>
            </div>
            <div class="stat">
              <dt>Tokens in / out</dt>
              <dd>
                {formatCount(d.byDay.totals.prompt_tokens)} / {formatCount(d.byDay.totals.completion_tokens)}
              </dd>
            </div>
            <div class="stat stat-wide">
              <dt>Budget</dt>
              <dd>
                <BudgetBar spentUsd={d.byDay.totals.cost_usd} budgetUsd={d.tenant.budget_usd} />
              </dd>
            </div>
          </dl>
          <DayChart title="Spend per day" points={(d.byDay.groups ?? []).map((g) => ({ day: g.day, value: g.cost_usd }))} format={formatUsd} />
          <BarList
            title="Spend per model"
            items={[...(d.byModel.groups ?? [])].sort((a, b) => b.cost_usd - a.cost_usd).map((g) => ({ name: g.model, value: g.cost_usd }))}
            format={formatUsd}
          />
          <div class="columns">
            <Table caption="Usage per day" head={['Day', 'Cost', 'Requests', 'Tokens in', 'Tokens out']}>
              {(d.byDay.groups ?? [])
                .filter((g) => g.request_count > 0)
                .reverse()
                .map((g) => (
                  <tr key={g.day} data-day={g.day}>
                    <td>{g.day}</td>
                    <td class="num">{formatUsd(g.cost_usd)}</td>
                    <td class="num">{formatCount(g.request_count)}</td>
                    <td class="num">{formatCount(g.prompt_tokens)}</td>
                    <td class="num">{formatCount(g.completion_tokens)}</td>
                  </tr>
                ))}
              {d.byDay.totals.request_count === 0 && <EmptyRow columns={5} text="No requests this month." />}
            </Table>
            <Table caption="Usage per model" head={['Model', 'Cost', 'Requests', 'Cache hits']}>
              {(d.byModel.groups ?? []).map((g) => (
                <tr key={g.model} data-model={g.model}>
                  <td>{g.model}</td>
                  <td class="num">{formatUsd(g.cost_usd)}</td>
                  <td class="num">{formatCount(g.request_count)}</td>
                  <td class="num">{formatCount(g.cache_hits)}</td>
                </tr>
              ))}
              {(d.byModel.groups ?? []).length === 0 && <EmptyRow columns={4} text="No requests this month." />}
            </Table>
          </div>
          <Alerts alerts={d.alerts} />
          <Keys tenant={d.tenant} />
        </>
      )}
    </section>
  );
}

function Alerts({ alerts }: { alerts: TenantAlerts | null }) {
  return (
    <Table caption="Recent budget alerts" head={['Threshold', 'Month', 'Sent']}>
      {alerts === null && <EmptyRow columns={3} text="Alerts could not be read." />}
      {alerts?.data.length === 0 && <EmptyRow columns={3} text="No budget alert has been sent recently." />}
      {alerts?.data.map((a) => (
        <tr key={`${a.period}-${a.threshold_pct}`} data-alert={a.threshold_pct}>
          <td>
            {a.threshold_pct} % of the budget ({formatUsd(alerts.budget_usd)})
          </td>
          <td>{a.period}</td>
          <td>{formatTime(a.sent_at)}</td>
        </tr>
      ))}
    </Table>
  );
}

function Keys({ tenant }: { tenant: Tenant }) {
  const now = Date.now();
  return (
    <Table caption="API keys (prefixes only)" head={['Prefix', 'Created', 'Age', 'Stops working']}>
      {tenant.keys.length === 0 && <EmptyRow columns={4} text="No working key." />}
      {tenant.keys.map((k) => (
        <tr key={k.prefix + k.created_at} data-key-prefix={k.prefix}>
          <td class="mono">{k.prefix}…</td>
          <td>{formatTime(k.created_at)}</td>
          <td>{formatAge(k.created_at, now)}</td>
          <td>{k.expires_at === null ? 'never (current key)' : `${formatTime(k.expires_at)} (grace period)`}</td>
        </tr>
      ))}
    </Table>
  );
}
