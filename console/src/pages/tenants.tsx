// Tenants: search, budget used this month, limits, and the writes the role may make.
import { useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { BudgetBar } from '../components/budget-bar';
import { ErrorNotice, Loading } from '../components/error-notice';
import { KeyReveal } from '../components/key-reveal';
import { EmptyRow, Table } from '../components/table';
import { formatCount } from '../format';
import { useLoad } from '../load';
import { href } from '../router';
import { useCan } from '../session';
import type { ListOf, Tenant } from '../types';
import { TenantActions } from './tenant-actions';
import { TenantForm } from './tenant-form';

export function TenantsPage() {
  const can = useCan();
  // The month's spend needs usage:read; without it the list shows no budget bars.
  const withSpend = can('usage:read');
  const tenants = useLoad(() => api.get<ListOf<Tenant>>(withSpend ? '/admin/tenants?with=spend' : '/admin/tenants'), [withSpend]);
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);

  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const all = tenants.data?.data ?? [];
    return needle === '' ? all : all.filter((t) => t.id.includes(needle) || t.name.toLowerCase().includes(needle));
  }, [tenants.data, search]);

  return (
    <section aria-labelledby="tenants-title">
      <div class="page-head">
        <h1 id="tenants-title">Tenants</h1>
        {can('tenant:write') && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create tenant
          </button>
        )}
      </div>
      <div class="field search">
        <label for="tenant-search">Search tenants</label>
        <input id="tenant-search" type="search" placeholder="Name or id" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
      </div>
      <ErrorNotice error={tenants.error} />
      {!tenants.data && tenants.loading && <Loading what="tenants" />}
      {tenants.data && (
        <Table caption={`${shown.length} of ${tenants.data.data.length} tenants`} head={['Tenant', 'Status', 'Budget this month', 'Limits', 'Actions']} cards>
          {shown.length === 0 && <EmptyRow columns={5} text={search ? 'No tenant matches the search.' : 'No tenants yet.'} />}
          {shown.map((t) => (
            <tr key={t.id} data-tenant={t.id}>
              <td>
                <a href={href.tenant(t.id)}>{t.name}</a>
                <div class="muted mono">{t.id}</div>
              </td>
              <td data-label="Status">
                <span class="badge" data-state={t.enabled ? 'closed' : 'open'}>
                  {t.enabled ? 'enabled' : 'disabled'}
                </span>
              </td>
              <td data-label="Budget this month">
                {t.spend_usd_month === undefined ? (
                  <span class="muted">–</span>
                ) : (
                  <BudgetBar spentUsd={t.spend_usd_month} budgetUsd={t.budget_usd} usedPct={t.budget_used_pct} />
                )}
              </td>
              <td data-label="Limits">
                {limitText(t.rate_limit_rpm, 'req/min')}
                <br />
                {limitText(t.rate_limit_tpm, 'tokens/min')}
              </td>
              <td>
                <TenantActions tenant={t} onChanged={tenants.reload} onDeleted={tenants.reload} />
              </td>
            </tr>
          ))}
        </Table>
      )}
      {creating && (
        <TenantForm
          onClose={() => setCreating(false)}
          onSaved={(saved) => {
            setCreating(false);
            if ('api_key' in saved) setCreated({ name: saved.name, key: saved.api_key });
            tenants.reload();
          }}
        />
      )}
      {created && <KeyReveal tenantName={created.name} apiKey={created.key} onClose={() => setCreated(null)} />}
    </section>
  );
}

const limitText = (limit: number, unit: string): string => (limit === 0 ? `unlimited ${unit}` : `${formatCount(limit)} ${unit}`);
