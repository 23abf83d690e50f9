// Provider and breaker health: closed is healthy, half-open is probing, open is failing.
import { api } from '../api';
import { formatCount, formatTime } from '../format';
import { useLoad } from '../load';
import type { BreakerState, ListOf, ProviderStatus } from '../types';
import { ErrorNotice } from './error-notice';
import { EmptyRow, Table } from './table';

const STATE_TEXT: Record<BreakerState, string> = { closed: 'healthy', half_open: 'recovering', open: 'failing' };

export function ProviderList() {
  const providers = useLoad(() => api.get<ListOf<ProviderStatus>>('/admin/providers'), []);
  const rows = providers.data?.data ?? [];
  return (
    <section aria-labelledby="providers-title">
      <div class="page-head">
        <h2 id="providers-title">Providers</h2>
        <button type="button" onClick={providers.reload}>
          Refresh providers
        </button>
      </div>
      <ErrorNotice error={providers.error} />
      <Table caption="Provider and circuit-breaker health" head={['Provider', 'Breaker', 'Failures in a row', 'Next probe', 'Cooldowns']}>
        {providers.data && rows.length === 0 && <EmptyRow columns={5} text="No provider state is available." />}
        {rows.map((p) => (
          <tr key={p.name} data-provider={p.name}>
            <td>{p.name}</td>
            <td>
              <span class="badge" data-state={p.breaker}>
                {STATE_TEXT[p.breaker] ?? p.breaker} ({p.breaker.replace('_', '-')})
              </span>
            </td>
            <td class="num">{formatCount(p.consecutive_failures)}</td>
            <td>{p.probe_at ? formatTime(p.probe_at) : '–'}</td>
            <td>{p.cooldowns.length === 0 ? '–' : p.cooldowns.map((c) => `${c.model} until ${formatTime(c.until)} (${c.status})`).join('; ')}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}
