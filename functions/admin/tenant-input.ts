// Validation of tenant bodies for create (POST) and partial update (PUT). Unknown fields and
// every type error are 400s naming the field; nothing unvalidated reaches the repository.
import type { Tenant } from '../core/ports';
import { PROVIDER_NAMES } from '../core/config';
import type { TenantDefaults } from '../core/config';
import { DEFAULT_TENANT } from '../core/tenants';
import { bool, invalid, nonNegativeInt, rejectUnknown, requireObject, type JsonObject } from './input';

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const TENANT_FIELDS = [
  'id', 'name', 'enabled', 'rate_limit_rpm', 'rate_limit_tpm', 'budget_usd', 'allow_overage',
  'allowed_models', 'default_provider', 'fallback_providers',
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

export function parseTenantCreate(body: unknown): TenantCreateInput {
  const obj = requireObject(body);
  rejectUnknown(obj, TENANT_FIELDS);
  if (obj.name === undefined) throw invalid('name', 'required');
  const id = obj.id === undefined ? undefined : tenantId(obj.id);
  const patch = parsePatch(obj);
  return { id, patch: { ...patch, name: patch.name as string } };
}

/** Parses an update; `pathId` is the tenant being updated (an `id` in the body must match it). */
export function parseTenantUpdate(body: unknown, pathId: string): TenantPatch {
  const obj = requireObject(body);
  rejectUnknown(obj, TENANT_FIELDS);
  if (obj.id !== undefined && obj.id !== pathId) throw invalid('id', 'a tenant id cannot be changed');
  return parsePatch(obj);
}

function tenantId(value: unknown): string {
  if (typeof value !== 'string' || !TENANT_ID_PATTERN.test(value)) {
    throw invalid('id', 'expected 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit');
  }
  return value;
}

function parsePatch(obj: JsonObject): TenantPatch {
  const patch: TenantPatch = {};
  if (obj.name !== undefined) {
    const v = obj.name;
    if (typeof v !== 'string' || v.length < 1 || v.length > MAX_NAME || v.trim() === '') {
      throw invalid('name', `expected a non-blank string of 1-${MAX_NAME} characters`);
    }
    patch.name = v;
  }
  if (obj.enabled !== undefined) patch.enabled = bool(obj, 'enabled');
  if (obj.rate_limit_rpm !== undefined) patch.rate_limit_rpm = nonNegativeInt(obj, 'rate_limit_rpm');
  if (obj.rate_limit_tpm !== undefined) patch.rate_limit_tpm = nonNegativeInt(obj, 'rate_limit_tpm');
  if (obj.budget_usd !== undefined) {
    const v = obj.budget_usd;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid('budget_usd', 'expected a non-negative number');
    patch.budget_usd = v;
  }
  if (obj.allow_overage !== undefined) patch.allow_overage = bool(obj, 'allow_overage');
  if (obj.allowed_models !== undefined) patch.allowed_models = modelList(obj.allowed_models);
  if (obj.default_provider !== undefined) {
    const v = obj.default_provider;
    if (v !== null && !isProvider(v)) throw invalid('default_provider', `expected one of ${PROVIDER_NAMES.join(', ')}`);
    patch.default_provider = v;
  }
  if (obj.fallback_providers !== undefined) {
    const v = obj.fallback_providers;
    if (v !== null && (!Array.isArray(v) || !v.every(isProvider))) {
      throw invalid('fallback_providers', `expected an array of ${PROVIDER_NAMES.join(', ')}`);
    }
    patch.fallback_providers = v === null ? null : [...(v as string[])];
  }
  return patch;
}

function modelList(v: unknown): string[] {
  if (!Array.isArray(v) || v.length > MAX_MODELS || !v.every((m) => typeof m === 'string' && m.trim() !== '' && m.length <= MAX_MODEL_NAME)) {
    throw invalid('allowed_models', `expected an array of at most ${MAX_MODELS} non-empty model names`);
  }
  return [...(v as string[])];
}

function isProvider(v: unknown): v is string {
  return typeof v === 'string' && (PROVIDER_NAMES as readonly string[]).includes(v);
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
