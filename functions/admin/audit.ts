// Appends one audit entry per successful write and per console sign-in and sign-out. Details
// are field names, roles and counts, never keys or passwords.
import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../core/ports';
import { iso, type AdminServices, type Principal } from './services';

export type AuditAction =
  | 'session.create'
  | 'session.delete'
  | 'tenant.create'
  | 'tenant.update'
  | 'tenant.delete'
  | 'tenant.rotate_key'
  | 'user.create'
  | 'user.update'
  | 'user.delete';

export async function recordAudit(
  s: AdminServices,
  actor: Principal,
  action: AuditAction,
  target: { tenant_id?: string; details?: Record<string, unknown> },
): Promise<void> {
  const entry: AuditEntry = { id: randomUUID(), at: iso(s.now()), actor: actor.username, action };
  if (target.tenant_id !== undefined) entry.tenant_id = target.tenant_id;
  if (target.details !== undefined) entry.details = target.details;
  try {
    await s.audit.append(entry);
  } catch (err) {
    // The write itself already happened; failing the request now would invite a retry that
    // repeats it (a second tenant, a second rotation). Log loudly instead.
    s.logger.error('admin audit append failed', { action, tenant_id: target.tenant_id, error: err instanceof Error ? err.message : String(err) });
  }
}
