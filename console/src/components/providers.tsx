// Provider and breaker health: closed is healthy, half-open is probing, open is failing.
import { api } from '../api';
import { formatCount, formatTime } from '../format';
import { useLoad } from '../load';
import type { BreakerState, ListOf, ProviderHealth } from '../types';
import { ErrorNotice } from './error-notice';
import { EmptyRow, Table } from './table';

const STATE_TEXT: Record<BreakerState, string> = { closed: 'healthy', half_open: 'recovering', open: 'failing' };

export function ProviderList() {
  const providers = useLoad(() => api.get<ListOf<ProviderHealth> | { providers: ProviderHealth[] }>('/admin/providers'), []);
  const rows = providers.data ? ('data' in providers.data ? providers.data.data : providers.data.providers) : [];
  return (
    <section aria-labelledby="providers-title">
      <div class="page-head">
        <h2 id="providers-title">Providers</h2>
        <button type="button" onClick={providers.reload}>
          Refresh providers
        </button>
      </div>
      <ErrorNotice error={providers.error} />
      <Table caption="Provider and circuit-breaker health" head={['Provider', 'Breaker', 'Recent failures', 'Cooldown until']}>
        {providers.data && rows.length === 0 && <EmptyRow columns={4} text="No provider is configured." />}
        {rows.map((p) => (
          <tr key={p.name} data-provider={p.name}>
            <td>{p.name}</td>
            <td>
              <span class="badge" data-state={p.state}>
                {STATE_TEXT[p.state] ?? p.state} ({p.state.replace('_', '-')})
              </span>
            </td>
            <td class="num">{typeof p.recent_failures === 'number' ? formatCount(p.recent_failures) : '–'}</td>
            <td>{typeof p.cooldown_until === 'string' ? formatTime(p.cooldown_until) : '–'}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}
