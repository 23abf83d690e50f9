// The writes on one tenant, each offered only to a role that may make it: edit, disable or
// enable, rotate the key (with a grace period), delete. Destructive ones ask first.
import { useState } from 'preact/hooks';
import { api, tenantPath } from '../api';
import { ConfirmDialog, FormDialog } from '../components/dialog';
import { Field } from '../components/field';
import { KeyReveal } from '../components/key-reveal';
import { useCan } from '../session';
import type { Tenant, TenantWithKey } from '../types';
import { TenantForm } from './tenant-form';

type Open = 'edit' | 'toggle' | 'rotate' | 'delete' | null;

const GRACE_CHOICES: Array<[number, string]> = [
  [0, 'None: the old key stops now'],
  [3600, '1 hour'],
  [86_400, '1 day'],
  [604_800, '7 days'],
  [2_592_000, '30 days'],
];

interface TenantActionsProps {
  tenant: Tenant;
  onChanged: () => void;
  onDeleted: () => void;
}

export function TenantActions({ tenant, onChanged, onDeleted }: TenantActionsProps) {
  const can = useCan();
  const [open, setOpen] = useState<Open>(null);
  const [newKey, setNewKey] = useState<string | null>(null);
  const [grace, setGrace] = useState(3600);
  const close = () => setOpen(null);
  const mayWrite = can('tenant:write');
  const mayDelete = can('tenant:delete');
  if (!mayWrite && !mayDelete) return null;

  return (
    <div class="row-actions">
      {mayWrite && (
        <>
          <button type="button" onClick={() => setOpen('edit')}>
            Edit<span class="sr-only"> {tenant.name}</span>
          </button>
          <button type="button" onClick={() => setOpen('toggle')}>
            {tenant.enabled ? 'Disable' : 'Enable'}
            <span class="sr-only"> {tenant.name}</span>
          </button>
          <button type="button" onClick={() => setOpen('rotate')}>
            Rotate key<span class="sr-only"> of {tenant.name}</span>
          </button>
        </>
      )}
      {mayDelete && (
        <button type="button" class="danger" onClick={() => setOpen('delete')}>
          Delete<span class="sr-only"> {tenant.name}</span>
        </button>
      )}

      {open === 'edit' && (
        <TenantForm
          tenant={tenant}
          onClose={close}
          onSaved={() => {
            close();
            onChanged();
          }}
        />
      )}
      {open === 'toggle' && (
        <ConfirmDialog
          title={`${tenant.enabled ? 'Disable' : 'Enable'} ${tenant.name}?`}
          message={tenant.enabled ? 'Its keys get 403 until it is enabled again.' : 'Its keys work again at once.'}
          confirmLabel={tenant.enabled ? 'Disable tenant' : 'Enable tenant'}
          danger={tenant.enabled}
          onClose={close}
          onConfirm={async () => {
            await api.put(tenantPath(tenant.id), { enabled: !tenant.enabled });
            close();
            onChanged();
          }}
        />
      )}
      {open === 'rotate' && (
        <FormDialog
          title={`Rotate the key of ${tenant.name}`}
          submitLabel="Rotate key"
          onClose={close}
          onSubmit={async () => {
            const rotated = await api.post<TenantWithKey>(`${tenantPath(tenant.id)}/rotate-key`, { grace_seconds: grace });
            close();
            setNewKey(rotated.api_key);
          }}
        >
          <p>A new key works at once. The current key keeps working for the grace period, so services can switch over.</p>
          <Field id="rotate-grace" label="Grace period for the current key">
            <select id="rotate-grace" value={String(grace)} onChange={(e) => setGrace(Number(e.currentTarget.value))}>
              {GRACE_CHOICES.map(([seconds, label]) => (
                <option key={seconds} value={String(seconds)}>
                  {label}
                </option>
              ))}
            </select>
          </Field>
        </FormDialog>
      )}
      {open === 'delete' && (
        <ConfirmDialog
          title={`Delete ${tenant.name}?`}
          message={`The tenant "${tenant.id}" and its keys are removed for good; requests with its keys get 401.`}
          confirmLabel="Delete tenant"
          danger
          onClose={close}
          onConfirm={async () => {
            await api.delete(tenantPath(tenant.id));
            close();
            onDeleted();
          }}
        />
      )}
      {newKey !== null && (
        <KeyReveal
          tenantName={tenant.name}
          apiKey={newKey}
          onClose={() => {
            setNewKey(null);
            onChanged();
          }}
        />
      )}
    </div>
  );
}
