// Create or edit a tenant. Only the fields a person sets are sent; the API fills defaults and
// names any field it refuses.
import { useState } from 'preact/hooks';
import { api, tenantPath } from '../api';
import { FormDialog } from '../components/dialog';
import { Field } from '../components/field';
import type { Tenant, TenantWithKey } from '../types';

interface TenantFormProps {
  /** Absent: create. */
  tenant?: Tenant;
  onClose: () => void;
  onSaved: (saved: Tenant | TenantWithKey) => void;
}

const numberOrUndefined = (text: string): number | undefined => (text.trim() === '' ? undefined : Number(text));

export function TenantForm({ tenant, onClose, onSaved }: TenantFormProps) {
  const [name, setName] = useState(tenant?.name ?? '');
  const [id, setId] = useState('');
  const [budget, setBudget] = useState(tenant ? String(tenant.budget_usd) : '');
  const [rpm, setRpm] = useState(tenant ? String(tenant.rate_limit_rpm) : '');
  const [tpm, setTpm] = useState(tenant ? String(tenant.rate_limit_tpm) : '');
  const [overage, setOverage] = useState(tenant?.allow_overage ?? false);
  const [models, setModels] = useState(tenant?.allowed_models.join(', ') ?? '');

  const save = async () => {
    const body: Record<string, unknown> = { name: name.trim(), allow_overage: overage };
    const fields: Array<[string, number | undefined]> = [
      ['budget_usd', numberOrUndefined(budget)],
      ['rate_limit_rpm', numberOrUndefined(rpm)],
      ['rate_limit_tpm', numberOrUndefined(tpm)],
    ];
    for (const [field, value] of fields) if (value !== undefined) body[field] = value;
    body.allowed_models = models
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    if (tenant) {
      onSaved(await api.put<Tenant>(tenantPath(tenant.id), body));
    } else {
      if (id.trim() !== '') body.id = id.trim();
      onSaved(await api.post<TenantWithKey>('/admin/tenants', body));
    }
  };

  return (
    <FormDialog title={tenant ? `Edit ${tenant.name}` : 'Create tenant'} submitLabel={tenant ? 'Save' : 'Create tenant'} onClose={onClose} onSubmit={save}>
      <div class="fields">
        <Field id="tenant-name" label="Name">
          <input id="tenant-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        {!tenant && (
          <Field id="tenant-id" label="Id (optional: lowercase letters, digits, dashes)">
            <input id="tenant-id" pattern="[a-z0-9-]+" value={id} onInput={(e) => setId(e.currentTarget.value)} />
          </Field>
        )}
        <Field id="tenant-budget" label="Monthly budget (USD, 0 = none)">
          <input id="tenant-budget" type="number" min="0" step="any" inputMode="decimal" value={budget} onInput={(e) => setBudget(e.currentTarget.value)} />
        </Field>
        <Field id="tenant-rpm" label="Requests per minute (0 = unlimited)">
          <input id="tenant-rpm" type="number" min="0" step="1" inputMode="numeric" value={rpm} onInput={(e) => setRpm(e.currentTarget.value)} />
        </Field>
        <Field id="tenant-tpm" label="Tokens per minute (0 = unlimited)">
          <input id="tenant-tpm" type="number" min="0" step="1" inputMode="numeric" value={tpm} onInput={(e) => setTpm(e.currentTarget.value)} />
        </Field>
        <Field id="tenant-models" label="Allowed models (comma-separated, empty = all)">
          <input id="tenant-models" value={models} onInput={(e) => setModels(e.currentTarget.value)} />
        </Field>
        <div class="check">
          <input id="tenant-overage" type="checkbox" checked={overage} onChange={(e) => setOverage(e.currentTarget.checked)} />
          <label for="tenant-overage">Allow spending over the budget</label>
        </div>
      </div>
    </FormDialog>
  );
}
