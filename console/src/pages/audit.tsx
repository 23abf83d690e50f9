// The audit log: who did what, when, filtered by actor, action, tenant and time.
import { useState } from 'preact/hooks';
import { api, withQuery } from '../api';
import { ErrorNotice, Loading } from '../components/error-notice';
import { Field } from '../components/field';
import { EmptyRow, Table } from '../components/table';
import { formatTime } from '../format';
import { useLoad } from '../load';
import { href } from '../router';
import type { AuditEntry, ListOf } from '../types';

const ACTIONS = [
  'session.create',
  'session.delete',
  'tenant.create',
  'tenant.update',
  'tenant.delete',
  'tenant.rotate_key',
  'user.create',
  'user.update',
  'user.delete',
];

interface Filters {
  actor: string;
  action: string;
  tenant_id: string;
  from: string;
  to: string;
}

const NO_FILTERS: Filters = { actor: '', action: '', tenant_id: '', from: '', to: '' };

export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const entries = useLoad(() => api.get<ListOf<AuditEntry>>(withQuery('/admin/audit', { ...applied, limit: '200' })), [applied]);
  const set = (field: keyof Filters) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) => setDraft({ ...draft, [field]: e.currentTarget.value });

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form
        class="filters"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...draft });
        }}
      >
        <Field id="audit-actor" label="Who">
          <input id="audit-actor" value={draft.actor} onInput={set('actor')} />
        </Field>
        <Field id="audit-action" label="Action">
          <select id="audit-action" value={draft.action} onChange={set('action')}>
            <option value="">any</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </Field>
        <Field id="audit-tenant" label="Tenant id">
          <input id="audit-tenant" value={draft.tenant_id} onInput={set('tenant_id')} />
        </Field>
        <Field id="audit-from" label="From (UTC day)">
          <input id="audit-from" type="date" value={draft.from} onInput={set('from')} />
        </Field>
        <Field id="audit-to" label="To (UTC day)">
          <input id="audit-to" type="date" value={draft.to} onInput={set('to')} />
        </Field>
        <div class="actions">
          <button
            type="button"
            onClick={() => {
              setDraft(NO_FILTERS);
              setApplied(NO_FILTERS);
            }}
          >
            Clear
          </button>
          <button type="submit" class="primary">
            Filter
          </button>
        </div>
      </form>
      <ErrorNotice error={entries.error} />
      {!entries.data && entries.loading && <Loading what="the audit log" />}
      {entries.data && (
        <Table
          caption={`${entries.data.data.length} ${entries.data.data.length === 1 ? 'entry' : 'entries'}, newest first`}
          head={['When', 'Who', 'Action', 'Tenant', 'Details']}
        >
          {entries.data.data.length === 0 && <EmptyRow columns={5} text="No entry matches." />}
          {entries.data.data.map((e) => (
            <tr key={e.id} data-action={e.action}>
              <td>{formatTime(e.at)}</td>
              <td>{e.actor}</td>
              <td class="mono">{e.action}</td>
              <td>{e.tenant_id ? <a href={href.tenant(e.tenant_id)}>{e.tenant_id}</a> : '–'}</td>
              <td class="mono small">{e.details ? detailsText(e.details) : ''}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join('; ');
}
