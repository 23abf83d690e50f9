import { GatewayError } from '../../functions/core/errors';
import { thrownBy } from './fixture-files';
import { DEFAULT_TENANT } from '../../functions/core/tenants';
import { applyPatch, newTenant, parseTenantCreate, parseTenantUpdate, slugify, TENANT_FIELDS, TENANT_ID_PATTERN } from '../../functions/admin/tenant-input';

function errorOf(fn: () => unknown): GatewayError {
  const err = thrownBy(fn);
  if (err instanceof GatewayError) return err;
  throw err;
}

describe('parseTenantCreate', () => {
  it('accepts a minimal body and fills DEFAULT_TENANT limits', () => {
    const input = parseTenantCreate({ name: 'my-service' });
    expect(input.id).toBeUndefined();
    const tenant = newTenant('my-service-1', input.patch);
    expect(tenant).toEqual({ ...DEFAULT_TENANT, id: 'my-service-1', name: 'my-service' });
  });

  it('accepts every field', () => {
    const body = {
      id: 'team-a',
      name: 'Team A',
      enabled: false,
      rate_limit_rpm: 100,
      rate_limit_tpm: 0,
      budget_usd: 50.5,
      allow_overage: true,
      allowed_models: ['gpt-4o', 'smart'],
      default_provider: 'anthropic',
      fallback_providers: ['openai', 'ollama'],
    };
    const input = parseTenantCreate(body);
    expect(input.id).toBe('team-a');
    const { id: _id, ...rest } = body;
    expect(newTenant('team-a', input.patch)).toEqual({ ...rest, id: 'team-a' });
  });

  it('covers exactly the documented fields', () => {
    expect([...TENANT_FIELDS].sort()).toEqual([
      'allow_overage',
      'allowed_models',
      'budget_usd',
      'default_provider',
      'enabled',
      'fallback_providers',
      'id',
      'name',
      'rate_limit_rpm',
      'rate_limit_tpm',
    ]);
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['missing name', {}, 'name'],
    ['empty name', { name: '' }, 'name'],
    ['blank name', { name: '   ' }, 'name'],
    ['long name', { name: 'x'.repeat(101) }, 'name'],
    ['numeric name', { name: 5 }, 'name'],
    ['id with upper case', { name: 'a', id: 'Team' }, 'id'],
    ['id starting with -', { name: 'a', id: '-team' }, 'id'],
    ['id too long', { name: 'a', id: 'a'.repeat(64) }, 'id'],
    ['id not a string', { name: 'a', id: 7 }, 'id'],
    ['id with underscore', { name: 'a', id: 'a_b' }, 'id'],
    ['enabled as string', { name: 'a', enabled: 'true' }, 'enabled'],
    ['negative rpm', { name: 'a', rate_limit_rpm: -1 }, 'rate_limit_rpm'],
    ['fractional rpm', { name: 'a', rate_limit_rpm: 1.5 }, 'rate_limit_rpm'],
    ['rpm as string', { name: 'a', rate_limit_rpm: '10' }, 'rate_limit_rpm'],
    ['negative tpm', { name: 'a', rate_limit_tpm: -5 }, 'rate_limit_tpm'],
    ['tpm null', { name: 'a', rate_limit_tpm: null }, 'rate_limit_tpm'],
    ['negative budget', { name: 'a', budget_usd: -0.01 }, 'budget_usd'],
    ['budget as string', { name: 'a', budget_usd: '5' }, 'budget_usd'],
    ['allow_overage as number', { name: 'a', allow_overage: 1 }, 'allow_overage'],
    ['allowed_models not an array', { name: 'a', allowed_models: 'gpt-4o' }, 'allowed_models'],
    ['allowed_models with empty string', { name: 'a', allowed_models: ['gpt-4o', ''] }, 'allowed_models'],
    ['allowed_models with a number', { name: 'a', allowed_models: [1] }, 'allowed_models'],
    ['unknown default_provider', { name: 'a', default_provider: 'azure' }, 'default_provider'],
    ['default_provider as number', { name: 'a', default_provider: 1 }, 'default_provider'],
    ['fallback_providers with unknown', { name: 'a', fallback_providers: ['openai', 'azure'] }, 'fallback_providers'],
    ['fallback_providers as string', { name: 'a', fallback_providers: 'openai' }, 'fallback_providers'],
    ['unknown field', { name: 'a', api_key: 'gw-x' }, 'api_key'],
    ['unknown field (typo)', { name: 'a', rate_limit: 5 }, 'rate_limit'],
  ];
  it.each(bad)('rejects %s with param naming the field', (_label, body, param) => {
    const err = errorOf(() => parseTenantCreate(body));
    expect(err.status).toBe(400);
    expect(err.param).toBe(param);
    expect(err.message).toContain(param);
  });

  it.each([null, [], 'x', 3, undefined])('rejects a non-object body %p', (body) => {
    const err = errorOf(() => parseTenantCreate(body));
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_body');
  });

  it('allows 0 (unlimited) limits and a zero budget', () => {
    const t = newTenant('a', parseTenantCreate({ name: 'a', rate_limit_rpm: 0, rate_limit_tpm: 0, budget_usd: 0 }).patch);
    expect([t.rate_limit_rpm, t.rate_limit_tpm, t.budget_usd]).toEqual([0, 0, 0]);
  });
});

describe('parseTenantUpdate / applyPatch', () => {
  const base = { ...DEFAULT_TENANT, id: 'team-a', name: 'Team A', default_provider: 'openai', fallback_providers: ['anthropic'] };

  it('applies only the given fields and names those that changed', () => {
    const patch = parseTenantUpdate({ rate_limit_rpm: 200, budget_usd: 1000, name: 'Team A' }, 'team-a');
    const { tenant, changed } = applyPatch(base, patch);
    expect(tenant).toEqual({ ...base, rate_limit_rpm: 200 });
    expect(changed).toEqual(['rate_limit_rpm']);
  });

  it('clears default_provider and fallback_providers with null', () => {
    const { tenant, changed } = applyPatch(base, parseTenantUpdate({ default_provider: null, fallback_providers: null }, 'team-a'));
    expect(tenant.default_provider).toBeUndefined();
    expect(tenant.fallback_providers).toBeUndefined();
    expect(changed.sort()).toEqual(['default_provider', 'fallback_providers']);
  });

  it('an empty body changes nothing', () => {
    expect(applyPatch(base, parseTenantUpdate({}, 'team-a')).changed).toEqual([]);
  });

  it('an id in the body must be the path id', () => {
    expect(parseTenantUpdate({ id: 'team-a', enabled: false }, 'team-a')).toEqual({ enabled: false });
    const err = errorOf(() => parseTenantUpdate({ id: 'team-b' }, 'team-a'));
    expect([err.status, err.param]).toEqual([400, 'id']);
  });

  it('validates types as on create', () => {
    expect(errorOf(() => parseTenantUpdate({ enabled: 'no' }, 'a')).param).toBe('enabled');
    expect(errorOf(() => parseTenantUpdate({ budget_usd: Infinity }, 'a')).param).toBe('budget_usd');
    expect(errorOf(() => parseTenantUpdate({ keys: [] }, 'a')).param).toBe('keys');
  });
});

describe('slugify / id pattern', () => {
  it.each([
    ['My Service!', 'my-service'],
    ['  --Hello__World--  ', 'hello-world'],
    ['Ünïcödé', 'unicode'],
    ['!!!', ''],
  ])('%p → %p', (name, slug) => expect(slugify(name)).toBe(slug));

  it('keeps generated slugs short enough for a suffix', () => {
    expect(slugify('a'.repeat(200)).length).toBeLessThanOrEqual(40);
    expect(TENANT_ID_PATTERN.test(`${slugify('a'.repeat(200))}-abc123`)).toBe(true);
  });
});
