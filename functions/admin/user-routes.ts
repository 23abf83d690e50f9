// Admin users and the audit trail (both need admin:manage). Password hashes never leave here.
import { StoreConflictError, type AdminUser } from '../core/ports';
import { notFound } from '../core/errors';
import { recordAudit } from './audit';
import { invalid } from './input';
import { hashPassword } from './passwords';
import { json, list, noContent } from './responses';
import { iso, type AdminServices, type RouteHandler } from './services';
import { conflict } from './tenant-write';
import { parseUserCreate, parseUserUpdate, USERNAME_PATTERN } from './user-input';
import { TENANT_ID_PATTERN } from './tenant-input';
import { userView } from './views';
import { parseIsoParam } from './usage-range';

const userNotFound = (username: string) => notFound(`Admin user "${username}" does not exist.`);

async function loadUser(s: AdminServices, params: Record<string, string>): Promise<AdminUser> {
  const username = params.username ?? '';
  const user = USERNAME_PATTERN.test(username) ? await s.users.get(username) : null;
  if (!user) throw userNotFound(username);
  return user;
}

/**
 * Refuses to remove the last admin, which would lock everyone out of user management.
 * (Check-then-write: two concurrent demotions could still both pass; rare enough for an admin
 * tool, and the bootstrap path can always recreate an admin when no user is left.)
 */
async function ensureAnotherAdmin(s: AdminServices, username: string): Promise<void> {
  const admins = (await s.users.list()).filter((u) => u.role === 'admin' && u.username !== username);
  if (admins.length === 0) throw conflict(`"${username}" is the last admin; create another admin first.`, 'role');
}

export const listUsers: RouteHandler = async (s) => {
  const users = await s.users.list();
  users.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  return json(200, list(users.map(userView)));
};

export const getUser: RouteHandler = async (s, { params }) => json(200, userView(await loadUser(s, params)));

export const createUser: RouteHandler = async (s, { body, principal }) => {
  const input = parseUserCreate(body);
  const at = iso(s.now());
  const user: AdminUser = { username: input.username, role: input.role, password_hash: await hashPassword(input.password), created_at: at, updated_at: at };
  try {
    await s.users.create(user);
  } catch (err) {
    if (err instanceof StoreConflictError) throw conflict(`Admin user "${input.username}" already exists.`, 'username');
    throw err;
  }
  await recordAudit(s, principal, 'user.create', { details: { username: user.username, role: user.role } });
  return json(201, userView(user));
};

export const updateUser: RouteHandler = async (s, { params, body, principal }) => {
  const current = await loadUser(s, params);
  const input = parseUserUpdate(body);
  const changed: string[] = [];
  const next: AdminUser = { ...current };
  if (input.role !== undefined && input.role !== current.role) {
    if (current.role === 'admin') await ensureAnotherAdmin(s, current.username);
    next.role = input.role;
    changed.push('role');
  }
  if (input.password !== undefined) {
    next.password_hash = await hashPassword(input.password);
    changed.push('password');
  }
  if (changed.length === 0) return json(200, userView(current));
  next.updated_at = iso(s.now());
  if (!(await s.users.update(next))) throw userNotFound(current.username);
  // "password" is named as changed, never its value.
  await recordAudit(s, principal, 'user.update', { details: { username: next.username, role: next.role, changed } });
  return json(200, userView(next));
};

export const deleteUser: RouteHandler = async (s, { params, principal }) => {
  const current = await loadUser(s, params);
  if (current.role === 'admin') await ensureAnotherAdmin(s, current.username);
  if (!(await s.users.delete(current.username))) throw userNotFound(current.username);
  await recordAudit(s, principal, 'user.delete', { details: { username: current.username, role: current.role } });
  return noContent();
};

const MAX_AUDIT_LIMIT = 1000;

/** GET /admin/audit?tenant_id&actor&action&from&to&limit: newest first, every given filter applied. */
export const listAudit: RouteHandler = async (s, { query }) => {
  const tenantId = query.get('tenant_id') ?? undefined;
  if (tenantId !== undefined && !TENANT_ID_PATTERN.test(tenantId)) throw invalid('tenant_id', 'expected a tenant id');
  const actor = query.get('actor') ?? undefined;
  if (actor !== undefined && !USERNAME_PATTERN.test(actor)) throw invalid('actor', 'expected an admin username');
  const action = query.get('action') ?? undefined;
  if (action !== undefined && !/^[a-z_]{1,32}\.[a-z_]{1,32}$/.test(action)) throw invalid('action', 'expected an action such as "tenant.create"');
  const fromText = query.get('from');
  const toText = query.get('to');
  const from = fromText === null ? undefined : iso(parseIsoParam(fromText, 'from'));
  const to = toText === null ? undefined : iso(parseIsoParam(toText, 'to'));
  if (from !== undefined && to !== undefined && from > to) throw invalid('from', '"from" must not be after "to"');
  const limitText = query.get('limit');
  let limit = 100;
  if (limitText !== null) {
    limit = /^\d{1,7}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= MAX_AUDIT_LIMIT)) throw invalid('limit', `expected an integer between 1 and ${MAX_AUDIT_LIMIT}`);
  }
  const filters = Object.fromEntries(Object.entries({ tenant_id: tenantId, actor, action, from, to }).filter(([, v]) => v !== undefined));
  const entries = await s.audit.list({ ...filters, limit });
  return json(200, list(entries));
};
