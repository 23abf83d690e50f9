// loadConfig: environment variables and the GATEWAY_CONFIG file.
import { ConfigError, loadConfig, type Env, type GatewayConfig } from '../../functions/config';
import { thrownBy } from './fixture-files';

const noFile = (path: string): string => {
  throw new Error(`unexpected read of ${path}`);
};

function load(env: Env, readText: (path: string) => string = noFile): GatewayConfig {
  return loadConfig(env, readText, '9.9.9');
}

function configError(env: Env, readText: (path: string) => string = noFile): ConfigError {
  const err = thrownBy(() => load(env, readText));
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

/** A readText that serves one file and records what was asked for. */
function fileServer(path: string, text: string): { read: (p: string) => string; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    read: (p: string) => {
      reads.push(p);
      if (p !== path) throw new Error(`ENOENT: no such file ${p}`);
      return text;
    },
  };
}

describe('loadConfig defaults', () => {
  it('listens on 127.0.0.1:8080 (loopback only), routes to ollama, and allows 6 MiB bodies', () => {
    const c = load({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.defaultProvider).toBe('ollama');
    expect(c.maxBodyBytes).toBe(6 * 1024 * 1024);
    expect(c.version).toBe('9.9.9');
  });

  it('uses the 5/3/30 circuit breaker and no routes', () => {
    const c = load({});
    expect(c.routing.circuit_breaker).toEqual({ failure_threshold: 5, success_threshold: 3, open_seconds: 30 });
    expect(c.routing.routes).toEqual({});
    expect(c.routing.prices).toEqual({});
  });

  it('does not read any file when GATEWAY_CONFIG is unset', () => {
    expect(() => load({})).not.toThrow();
  });
});

describe('listen address', () => {
  it('takes the port from ADDR ":9090" and listens on every interface', () => {
    const c = load({ ADDR: ':9090' });
    expect(c.port).toBe(9090);
    expect(c.host).toBe('0.0.0.0');
  });

  it('takes host and port from ADDR "127.0.0.1:9091"', () => {
    const c = load({ ADDR: '127.0.0.1:9091' });
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(9091);
  });

  it('takes the port from PORT and stays on loopback', () => {
    expect(load({ PORT: '3000' }).port).toBe(3000);
    expect(load({ PORT: '3000' }).host).toBe('127.0.0.1');
  });
});

describe('REQUEST_TIMEOUT', () => {
  it('defaults to 30 s and is read in seconds', () => {
    expect(load({}).requestTimeoutMs).toBe(30_000);
    expect(load({ REQUEST_TIMEOUT: '5' }).requestTimeoutMs).toBe(5_000);
  });

  it.each(['0', '-1', '1.5', 'soon', '86401'])('refuses %j naming the variable', (value) => {
    expect(configError({ REQUEST_TIMEOUT: value }).message).toContain('REQUEST_TIMEOUT');
  });
});

describe('console settings', () => {
  it('default to an 8-hour session, no configured secret and the runtime’s console directory', () => {
    expect(load({}).admin).toMatchObject({ sessionTtlSeconds: 28_800, sessionSecret: undefined, consoleDir: undefined });
    const set = load({ ADMIN_SESSION_TTL: '3600', ADMIN_SESSION_SECRET: 'x'.repeat(32), CONSOLE_DIR: '/srv/console' }).admin;
    expect(set).toMatchObject({ sessionTtlSeconds: 3600, sessionSecret: 'x'.repeat(32), consoleDir: '/srv/console' });
  });

  it.each([
    [{ ADMIN_SESSION_TTL: '59' }, /^ADMIN_SESSION_TTL must be a whole number of seconds from 60 to 604800; got "59"$/],
    [{ ADMIN_SESSION_TTL: '8h' }, /^ADMIN_SESSION_TTL /],
    [{ ADMIN_SESSION_SECRET: 'too-short' }, /^ADMIN_SESSION_SECRET must be at least 32 characters \(its value is not shown\)$/],
  ])('refuses %j', (env, message) => {
    const error = configError(env);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('too-short');
  });
});

describe('bad environment values fail with a ConfigError naming the variable', () => {
  it.each<[string, Env]>([
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['ADDR', { ADDR: 'nonsense' }],
    ['ADDR', { ADDR: ':99999' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['DEFAULT_PROVIDER', { DEFAULT_PROVIDER: 'foo' }],
    ['OPENAI_BASE_URL', { OPENAI_BASE_URL: 'not a url' }],
    ['OLLAMA_BASE_URL', { OLLAMA_BASE_URL: 'ftp://localhost:11434' }],
    ['MAX_BODY_BYTES', { MAX_BODY_BYTES: '-1' }],
    ['MAX_BODY_BYTES', { MAX_BODY_BYTES: '1.5' }],
    ['SHUTDOWN_TIMEOUT', { SHUTDOWN_TIMEOUT: '0' }],
    ['UPSTREAM_TIMEOUT', { UPSTREAM_TIMEOUT: 'soon' }],
    ['TENANT_DEFAULT_RPM', { TENANT_DEFAULT_RPM: '1.5' }],
    ['TENANT_DEFAULT_TPM', { TENANT_DEFAULT_TPM: '-3' }],
    ['TENANT_DEFAULT_BUDGET_USD', { TENANT_DEFAULT_BUDGET_USD: 'lots' }],
    ['USAGE_TABLE', { USAGE_TABLE: 'a b' }],
    ['USAGE_QUEUE_URL', { USAGE_QUEUE_URL: 'queue' }],
    ['ALERT_TOPIC_ARN', { ALERT_TOPIC_ARN: 'arn:aws:sqs:us-east-1:123456789012:q' }],
    ['ALERT_WEBHOOK_URL', { ALERT_WEBHOOK_URL: 'mailto:ops@example.com' }],
  ])('%s (%j)', (name, env) => {
    expect(configError(env).message).toContain(name);
  });
});

describe('accepted environment values', () => {
  it('reads tenant defaults, the usage table and queue, and the alert targets', () => {
    expect(load({}).tenantDefaults).toEqual({ rate_limit_rpm: 0, rate_limit_tpm: 0, budget_usd: 1000 });
    const c = load({
      TENANT_DEFAULT_RPM: '100',
      TENANT_DEFAULT_TPM: '0',
      TENANT_DEFAULT_BUDGET_USD: '12.5',
      USAGE_TABLE: 'my-usage',
      USAGE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/usage',
      ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:alerts',
      ALERT_WEBHOOK_URL: 'https://hooks.example.com/T1/B2',
    });
    expect(c.tenantDefaults).toEqual({ rate_limit_rpm: 100, rate_limit_tpm: 0, budget_usd: 12.5 });
    expect(c.usage).toEqual({ table: 'my-usage', tableSet: true, queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/usage' });
    expect(c.alerts).toEqual({ topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts', webhookUrl: 'https://hooks.example.com/T1/B2' });
    expect(load({}).usage).toEqual({ table: 'ai-gateway-usage', tableSet: false });
  });

  it('reads LOG_LEVEL, DEFAULT_PROVIDER, base URLs and limits', () => {
    const c = load({
      LOG_LEVEL: 'debug',
      DEFAULT_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: 'http://127.0.0.1:4010/v1',
      OLLAMA_BASE_URL: 'http://ollama:11434',
      MAX_BODY_BYTES: '1024',
      SHUTDOWN_TIMEOUT: '5',
    });
    expect(c.logLevel).toBe('debug');
    expect(c.defaultProvider).toBe('openai');
    expect(c.openai.apiKey).toBe('sk-test');
    expect(new URL(c.openai.baseUrl).href).toBe(new URL('http://127.0.0.1:4010/v1').href);
    expect(new URL(c.ollama.baseUrl).host).toBe('ollama:11434');
    expect(c.maxBodyBytes).toBe(1024);
    expect(c.shutdownTimeoutMs).toBe(5000);
  });
});

describe('GATEWAY_CONFIG file', () => {
  const doc = {
    routes: {
      smart: {
        targets: [
          { provider: 'openai', model: 'gpt-4o' },
          { provider: 'ollama', model: 'llama3.2' },
        ],
      },
    },
    prices: { 'llama3.2': { input_per_mtok: 0.1, output_per_mtok: 0.2 } },
    circuit_breaker: { failure_threshold: 2, open_seconds: 10 },
  };

  it('reads the file through readText and applies routes, prices and circuit_breaker', () => {
    const files = fileServer('/etc/gateway.json', JSON.stringify(doc));
    const c = load({ GATEWAY_CONFIG: '/etc/gateway.json' }, files.read);
    expect(files.reads).toEqual(['/etc/gateway.json']);
    expect(c.routing.routes.smart?.targets).toEqual(doc.routes.smart.targets);
    expect(c.routing.prices['llama3.2']).toEqual(doc.prices['llama3.2']);
    // fields the file sets win; the others keep their defaults
    expect(c.routing.circuit_breaker).toEqual({ failure_threshold: 2, success_threshold: 3, open_seconds: 10 });
  });

  it('reports an unreadable file as a ConfigError naming GATEWAY_CONFIG', () => {
    const files = fileServer('/etc/gateway.json', '{}');
    expect(configError({ GATEWAY_CONFIG: '/etc/missing.json' }, files.read).message).toContain('GATEWAY_CONFIG');
  });

  it('reports invalid JSON as a ConfigError naming GATEWAY_CONFIG', () => {
    const files = fileServer('/c.json', '{"routes": ');
    expect(configError({ GATEWAY_CONFIG: '/c.json' }, files.read).message).toContain('GATEWAY_CONFIG');
  });

  it.each<[string, unknown, string]>([
    ['an unknown top-level field', { rutes: {} }, 'rutes'],
    ['a route target without a model', { routes: { smart: { targets: [{ provider: 'openai' }] } } }, 'routes.smart.targets[0]'],
    ['a route with no targets', { routes: { smart: { targets: [] } } }, 'routes.smart.targets'],
    ['a route target with an unknown provider', { routes: { smart: { targets: [{ provider: 'mistral', model: 'x' }] } } }, 'routes.smart.targets[0].provider'],
    ['an unknown provider section', { providers: { mistral: {} } }, 'providers.mistral'],
    ['an unknown circuit_breaker field', { circuit_breaker: { failure_treshold: 3 } }, 'circuit_breaker.failure_treshold'],
    ['a non-positive circuit_breaker value', { circuit_breaker: { open_seconds: 0 } }, 'circuit_breaker.open_seconds'],
    ['a negative price', { prices: { 'gpt-4o': { input_per_mtok: -1, output_per_mtok: 1 } } }, 'prices.gpt-4o.input_per_mtok'],
    ['a price without output_per_mtok', { prices: { 'gpt-4o': { input_per_mtok: 1 } } }, 'prices.gpt-4o.output_per_mtok'],
    ['a document that is an array', [], 'GATEWAY_CONFIG'],
    ['a zero weight', { routes: { r: { targets: [{ provider: 'openai', model: 'x', weight: 0 }] } } }, 'routes.r.targets[0].weight must be a positive number'],
    [
      'a negative weight',
      { routes: { r: { targets: [{ provider: 'openai', model: 'x', weight: -1 }] } } },
      'routes.r.targets[0].weight must be a positive number',
    ],
    [
      'a weight given as text',
      { routes: { r: { targets: [{ provider: 'openai', model: 'x', weight: '3' }] } } },
      'routes.r.targets[0].weight must be a positive number',
    ],
    [
      'an unknown strategy',
      { routes: { r: { strategy: 'random', targets: [{ provider: 'openai', model: 'x' }] } } },
      'routes.r.strategy must be one of weighted, least-latency, ordered',
    ],
  ])('rejects %s with a ConfigError naming the field', (_label, json, field) => {
    const files = fileServer('/c.json', JSON.stringify(json));
    expect(configError({ GATEWAY_CONFIG: '/c.json' }, files.read).message).toContain(field);
  });

  // A misspelt or invented field at any depth would otherwise be silently ignored.
  it.each<[unknown, string]>([
    [{ providers: { openai: { base_url: 'http://127.0.0.1:4010' } } }, 'providers.openai.base_url'],
    [{ routes: { fast: { targets: [{ provider: 'openai', model: 'gpt-4o', weight: 2, priority: 1 }] } } }, 'routes.fast.targets[0].priority'],
    [{ routes: { fast: { targets: [{ provider: 'openai', model: 'gpt-4o' }], balance: 'random' } } }, 'routes.fast.balance'],
    [{ circuit_breaker: { x: 1 } }, 'circuit_breaker.x'],
    [{ cache: { x: 1 } }, 'cache.x'],
    [{ prices: { m: { input_per_mtok: 1, output_per_mtok: 2, x: 3 } } }, 'prices.m.x'],
  ])('refuses the unknown field in %j, naming its path and source', (json, path) => {
    const files = fileServer('/etc/gateway.json', JSON.stringify(json));
    expect(configError({ GATEWAY_CONFIG: '/etc/gateway.json' }, files.read).message).toMatch(
      new RegExp(`^GATEWAY_CONFIG \\(/etc/gateway\\.json\\): ${path.replace(/[.[\]]/g, '\\$&')} is not a known field`),
    );
  });

  it('refuses an unknown nested field in GATEWAY_CONFIG_JSON too', () => {
    const json = JSON.stringify({ providers: { anthropic: { default_model: 'claude-sonnet-4-5', api_key: 'sk-ant' } } });
    expect(configError({ GATEWAY_CONFIG_JSON: json }).message).toMatch(/^GATEWAY_CONFIG_JSON: providers\.anthropic\.api_key is not a known field/);
  });

  it('refuses a route alias or price entry named like an Object.prototype member instead of dropping it', () => {
    for (const [json, path] of [
      [{ routes: { constructor: { targets: [{ provider: 'openai', model: 'gpt-4o' }] } } }, 'routes.constructor'],
      [JSON.parse('{"prices": {"__proto__": {"input_per_mtok": 1, "output_per_mtok": 2}}}'), 'prices.__proto__'],
    ] as const) {
      expect(configError({ GATEWAY_CONFIG_JSON: JSON.stringify(json) }).message).toContain(path);
    }
  });

  it('keeps the defaults of the fields a section leaves out', () => {
    const files = fileServer('/c.json', JSON.stringify({ cache: { max_bytes: 1024 }, providers: { ollama: {} } }));
    const c = load({ GATEWAY_CONFIG: '/c.json' }, files.read);
    expect(c.routing.cache).toEqual({ default_ttl_seconds: 300, max_bytes: 1024 });
    expect(c.routing.providers).toEqual({ ollama: {} });
  });

  // Field names inherited from Object.prototype are not known fields either.
  it('rejects circuit_breaker / cache fields named like Object.prototype members', () => {
    for (const [json, field] of [
      [{ circuit_breaker: { constructor: 5 } }, 'circuit_breaker.constructor'],
      [{ cache: { toString: 1 } }, 'cache.toString'],
    ] as const) {
      const files = fileServer('/c.json', JSON.stringify(json));
      expect(configError({ GATEWAY_CONFIG: '/c.json' }, files.read).message).toContain(field);
    }
  });
});

describe('GATEWAY_CONFIG_JSON (the routing config as text, for the Lambda functions)', () => {
  const doc = { routes: { smart: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] } }, fallback_providers: [] };

  it('applies the same document without reading any file', () => {
    const c = load({ GATEWAY_CONFIG_JSON: JSON.stringify(doc) });
    expect(c.routing.routes.smart?.targets).toEqual(doc.routes.smart.targets);
    expect(c.routing.fallback_providers).toEqual([]);
  });

  it('validates it with the same rules, naming GATEWAY_CONFIG_JSON and the field', () => {
    const err = configError({ GATEWAY_CONFIG_JSON: JSON.stringify({ routes: { smart: { targets: [] } } }) });
    expect(err.message).toContain('GATEWAY_CONFIG_JSON');
    expect(err.message).toContain('routes.smart.targets');
    expect(configError({ GATEWAY_CONFIG_JSON: '{"routes": ' }).message).toContain('GATEWAY_CONFIG_JSON is not valid JSON');
  });

  it('refuses GATEWAY_CONFIG and GATEWAY_CONFIG_JSON together', () => {
    expect(configError({ GATEWAY_CONFIG: '/c.json', GATEWAY_CONFIG_JSON: '{}' }).message).toMatch(/GATEWAY_CONFIG and GATEWAY_CONFIG_JSON/);
  });
});

describe('Secrets Manager settings', () => {
  const providerArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ai-gateway/provider-keys-AbCdEf';
  const adminArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AdminCredential1A2B-xYz123';

  it('has no secrets and a 300 s refresh by default', () => {
    expect(load({}).secrets).toEqual({ providerSecretArn: undefined, providerSecretRefreshMs: 300_000, adminSecretArn: undefined });
  });

  it('reads PROVIDER_SECRET_ARN, PROVIDER_SECRET_REFRESH (seconds) and ADMIN_SECRET_ARN', () => {
    const c = load({ PROVIDER_SECRET_ARN: providerArn, PROVIDER_SECRET_REFRESH: '60', ADMIN_SECRET_ARN: adminArn });
    expect(c.secrets).toEqual({ providerSecretArn: providerArn, providerSecretRefreshMs: 60_000, adminSecretArn: adminArn });
  });

  it.each([
    ['PROVIDER_SECRET_ARN', 'provider-keys'],
    ['PROVIDER_SECRET_ARN', 'arn:aws:s3:::bucket'],
    ['ADMIN_SECRET_ARN', 'arn:aws:secretsmanager:eu-west-1:123:secret:x'],
    ['PROVIDER_SECRET_REFRESH', '0'],
    ['PROVIDER_SECRET_REFRESH', '5m'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(configError({ [name]: value }).message).toContain(name);
  });
});

describe('stored responses (RESPONSES_TTL)', () => {
  it('keeps stored responses 30 days by default', () => {
    expect(load({}).responses).toEqual({ ttlSeconds: 2_592_000 });
  });

  it('reads seconds, up to a year', () => {
    expect(load({ RESPONSES_TTL: '3600' }).responses).toEqual({ ttlSeconds: 3600 });
    expect(load({ RESPONSES_TTL: '31536000' }).responses).toEqual({ ttlSeconds: 31_536_000 });
  });

  it.each(['0', '-5', '1.5', '31536001', '30d'])('refuses RESPONSES_TTL=%s, naming it and the bound', (value) => {
    expect(configError({ RESPONSES_TTL: value }).message).toBe(`RESPONSES_TTL must be a positive integer up to 31536000; got "${value}"`);
  });
});

describe('shared store settings (STORE_TIMEOUT, STORE_FAILURE_MODE, TENANT_STALE_TTL)', () => {
  it('defaults to a 150 ms deadline, degrading (open), and 15 minutes of last-known-good tenants', () => {
    expect(load({}).stores).toEqual({ timeoutMs: 150, failureMode: 'open', tenantStaleTtlMs: 900_000 });
  });

  it('reads milliseconds, the mode in any case, and seconds (0: never serve stale)', () => {
    expect(load({ STORE_TIMEOUT: '80', STORE_FAILURE_MODE: 'Closed', TENANT_STALE_TTL: '0' }).stores).toEqual({
      timeoutMs: 80,
      failureMode: 'closed',
      tenantStaleTtlMs: 0,
    });
  });

  it.each([
    ['STORE_TIMEOUT', '0'],
    ['STORE_TIMEOUT', '1.5'],
    ['STORE_TIMEOUT', '60001'],
    ['STORE_TIMEOUT', 'fast'],
    ['STORE_FAILURE_MODE', 'half'],
    ['TENANT_STALE_TTL', '-1'],
    ['TENANT_STALE_TTL', '86401'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(configError({ [name]: value }).message).toContain(name);
  });
});
