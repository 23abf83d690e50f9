// Validation of tenant bodies for create (POST) and partial update (PUT). Unknown fields and
// every type error are 400s naming the field; nothing unvalidated reaches the repository.
import * as v from 'valibot';
import type { Tenant } from '../core/ports';
import { BUILT_IN_PROVIDERS, type TenantDefaults } from '../config';
import { DEFAULT_TENANT } from '../core/tenants';
import { boolField, invalid, nonNegativeIntField, parseBody } from './input';

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const TENANT_FIELDS = [
  'id',
  'name',
  'enabled',
  'rate_limit_rpm',
  'rate_limit_tpm',
  'budget_usd',
  'allow_overage',
  'allowed_models',
  'default_provider',
  'fallback_providers',
] as const;

const MAX_NAME = 100;
const MAX_MODELS = 1000;
const MAX_MODEL_NAME = 256;

/**
 * The editable tenant fields. `null` for default_provider / fallback_providers (update only)
 * clears them, so the gateway-wide default applies again.
 */
export interface TenantPatch {
  name?: string;
  enabled?: boolean;
  rate_limit_rpm?: number;
  rate_limit_tpm?: number;
  budget_usd?: number;
  allow_overage?: boolean;
  allowed_models?: string[];
  default_provider?: string | null;
  fallback_providers?: string[] | null;
}

export interface TenantCreateInput {
  /** Absent: the caller generates one. */
  id?: string;
  patch: TenantPatch & { name: string };
}

const name = v.message(
  v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(MAX_NAME),
    v.check((s) => s.trim() !== ''),
  ),
  `expected a non-blank string of 1-${MAX_NAME} characters`,
);

const tenantId = v.message(v.pipe(v.string(), v.regex(TENANT_ID_PATTERN)), 'expected 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit');

/** Every field but id and name, each optional (a patch sets only what it names); `providers` are the names the gateway knows. */
const patchEntries = (providers: readonly string[]) => ({
  enabled: v.optional(boolField),
  rate_limit_rpm: v.optional(nonNegativeIntField),
  rate_limit_tpm: v.optional(nonNegativeIntField),
  budget_usd: v.optional(v.message(v.pipe(v.number(), v.finite(), v.minValue(0)), 'expected a non-negative number')),
  allow_overage: v.optional(boolField),
  allowed_models: v.optional(
    v.message(
      v.pipe(
        v.array(
          v.pipe(
            v.string(),
            v.maxLength(MAX_MODEL_NAME),
            v.check((m) => m.trim() !== ''),
          ),
        ),
        v.maxLength(MAX_MODELS),
      ),
      `expected an array of at most ${MAX_MODELS} non-empty model names`,
    ),
  ),
  default_provider: v.optional(v.nullable(v.picklist(providers, `expected one of ${providers.join(', ')}`))),
  fallback_providers: v.optional(v.message(v.nullable(v.array(v.picklist(providers))), `expected an array of ${providers.join(', ')}`)),
});

// Entries in TENANT_FIELDS order: the order bad fields are reported in and allowed ones listed.
const tenantCreate = (providers: readonly string[]) => v.strictObject({ id: v.optional(tenantId), name, ...patchEntries(providers) });
const tenantUpdate = (providers: readonly string[]) => v.strictObject({ id: v.optional(v.unknown()), name: v.optional(name), ...patchEntries(providers) });

/** The schemas for one set of provider names, built once (a gateway's names do not change while it runs). */
const schemas = new Map<string, { create: ReturnType<typeof tenantCreate>; update: ReturnType<typeof tenantUpdate> }>();
function schemasFor(providers: readonly string[]) {
  const key = providers.join(',');
  let found = schemas.get(key);
  if (!found) schemas.set(key, (found = { create: tenantCreate(providers), update: tenantUpdate(providers) }));
  return found;
}

/** `providers`: the provider names a tenant may choose (the built-in ones and the configured named ones). */
export function parseTenantCreate(body: unknown, providers: readonly string[] = BUILT_IN_PROVIDERS): TenantCreateInput {
  const { id, ...patch } = parseBody(schemasFor(providers).create, body);
  return { id, patch };
}

/** Parses an update; `pathId` is the tenant being updated (an `id` in the body must match it). */
export function parseTenantUpdate(body: unknown, pathId: string, providers: readonly string[] = BUILT_IN_PROVIDERS): TenantPatch {
  const { id, ...patch } = parseBody(schemasFor(providers).update, body);
  if (id !== undefined && id !== pathId) throw invalid('id', 'a tenant id cannot be changed');
  return patch;
}

/** A new tenant: the configured default limits (else DEFAULT_TENANT's), with the given fields on top. */
export function newTenant(id: string, patch: TenantPatch & { name: string }, defaults?: TenantDefaults): Tenant {
  const base: Tenant = { ...DEFAULT_TENANT, ...defaults, allowed_models: [...DEFAULT_TENANT.allowed_models], id, name: patch.name };
  return applyPatch(base, patch).tenant;
}

/** Applies a patch; `changed` lists the fields whose value actually differs afterwards. */
export function applyPatch<T extends Tenant>(current: T, patch: TenantPatch): { tenant: T; changed: string[] } {
  const next: T = { ...current };
  const changed: string[] = [];
  for (const [field, value] of Object.entries(patch) as Array<[keyof TenantPatch, TenantPatch[keyof TenantPatch]]>) {
    if (value === undefined) continue;
    const before = current[field];
    if (value === null) {
      delete (next as Record<string, unknown>)[field];
    } else {
      (next as Record<string, unknown>)[field] = value;
    }
    if (JSON.stringify(before ?? null) !== JSON.stringify(value)) changed.push(field);
  }
  return { tenant: next, changed };
}

/** `my Service!` → `my-service`; empty when nothing slug-safe is left. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '') // drop the accents NFKD split off: "é" → "e", not "e-"
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
}
