// The routing document: route aliases, provider defaults, fallback order, price overrides, circuit
// breaker and cache settings. It comes from the GATEWAY_CONFIG file or, where no file can be
// shipped (the Lambda functions), from the GATEWAY_CONFIG_JSON text; both at once would be ambiguous.
import * as v from 'valibot';
import { ConfigError } from './error';
import type { Env } from './env';
import { providerNames } from '../core/provider-names';
import { entryNameProblem, providerEntry, providerKey, type ProviderEntry } from './named-providers';
import { issuePath, map, section } from './strict';

export interface RouteTarget {
  provider: string;
  model: string;
  /** A deployment's share of a balanced route's first tries (positive; 1 when absent). */
  weight?: number;
}

/** How a route picks the first of its targets: see core/balancer.ts. */
export const ROUTE_STRATEGIES = ['weighted', 'least-latency', 'ordered'] as const;
export type RouteStrategy = (typeof ROUTE_STRATEGIES)[number];

export interface Route {
  /**
   * Absent: `weighted` when a target gives a weight, else `ordered` (a fallback chain written
   * before routes could balance keeps its order).
   */
  strategy?: RouteStrategy;
  targets: RouteTarget[];
}

export interface PriceOverride {
  input_per_mtok: number;
  output_per_mtok: number;
  cache_read_per_mtok?: number;
  cache_write_per_mtok?: number;
}

export interface BreakerSettings {
  failure_threshold: number;
  success_threshold: number;
  open_seconds: number;
}

export interface RoutingFile {
  routes: Record<string, Route>;
  /** Built-in providers' default models, and the named providers (see named-providers.ts). */
  providers: Record<string, ProviderEntry>;
  fallback_providers?: string[];
  fallback: FallbackSettings;
  prices: Record<string, PriceOverride>;
  circuit_breaker: BreakerSettings;
  cache: { default_ttl_seconds: number; max_bytes: number };
}

export interface FallbackSettings {
  /**
   * Whether a request that names its provider (`provider/model`, X-Provider) may fall back to
   * other providers. Off by default: a client that chose a provider is not served (and billed) by
   * another unless the operator allows it here or the tenant lists its own fallback providers.
   */
  explicit: boolean;
}

export interface RoutingSettings {
  routing: RoutingFile;
}

export const DEFAULT_BREAKER: BreakerSettings = { failure_threshold: 5, success_threshold: 3, open_seconds: 30 };
const DEFAULT_CACHE: RoutingFile['cache'] = { default_ttl_seconds: 300, max_bytes: 64 * 1024 * 1024 };

/** A provider reference; that it names a provider is checked once the whole document is read (named ones count). */
const provider = v.string('must be a provider name');
const nonEmptyString = v.message(v.pipe(v.string(), v.minLength(1)), 'must be a non-empty string');
const positiveInt = v.message(v.pipe(v.number(), v.integer(), v.minValue(1)), 'must be a positive integer');
const nonNegativeInt = v.message(v.pipe(v.number(), v.integer(), v.minValue(0)), 'must be a non-negative integer');
const price = v.message(v.pipe(v.number(), v.minValue(0)), 'must be a non-negative number');
const weight = v.message(v.pipe(v.number(), v.finite(), v.gtValue(0)), 'must be a positive number');
const strategy = v.picklist(ROUTE_STRATEGIES, `must be one of ${ROUTE_STRATEGIES.join(', ')}`);

const RoutingDocument = section(
  {
    routes: v.optional(
      map(
        v.string(),
        section({
          strategy: v.optional(strategy),
          targets: v.pipe(
            v.array(section({ provider, model: nonEmptyString, weight: v.optional(weight) }), 'must be a non-empty array'),
            v.minLength(1, 'must be a non-empty array'),
          ),
        }),
      ),
      {},
    ),
    providers: v.optional(map(providerKey, providerEntry), {}),
    fallback_providers: v.optional(v.array(provider, 'must be an array of provider names')),
    fallback: v.optional(section({ explicit: v.optional(v.message(v.boolean(), 'must be true or false'), false) }), {}),
    prices: v.optional(
      map(
        v.string(),
        section({
          input_per_mtok: price,
          output_per_mtok: price,
          cache_read_per_mtok: v.optional(price),
          cache_write_per_mtok: v.optional(price),
        }),
      ),
      {},
    ),
    circuit_breaker: v.optional(
      section({
        failure_threshold: v.optional(positiveInt, DEFAULT_BREAKER.failure_threshold),
        success_threshold: v.optional(positiveInt, DEFAULT_BREAKER.success_threshold),
        open_seconds: v.optional(positiveInt, DEFAULT_BREAKER.open_seconds),
      }),
      {},
    ),
    cache: v.optional(
      section({
        default_ttl_seconds: v.optional(nonNegativeInt, DEFAULT_CACHE.default_ttl_seconds),
        max_bytes: v.optional(nonNegativeInt, DEFAULT_CACHE.max_bytes),
      }),
      {},
    ),
  },
  'must be a JSON object',
);

/**
 * Validates a routing document; `source` names where it came from in the error
 * ("GATEWAY_CONFIG (/etc/gateway.json): routes.fast.targets[0].weight is not a known field …").
 */
export function parseRoutingJson(json: unknown, source: string): RoutingFile {
  const result = v.safeParse(RoutingDocument, json, { abortEarly: true });
  if (!result.success) {
    const issue = result.issues[0];
    throw new ConfigError(`${source}: ${issuePath(issue) || 'the document'} ${issue.message}`);
  }
  const doc: RoutingFile = result.output;
  const problem = providerProblem(doc);
  if (problem) throw new ConfigError(`${source}: ${problem}`);
  return doc;
}

/** The first provider entry or reference that names no provider, with its path. */
function providerProblem(doc: RoutingFile): string | undefined {
  for (const [name, entry] of Object.entries(doc.providers)) {
    const problem = entryNameProblem(name, entry);
    if (problem) return `providers.${name} ${problem}`;
  }
  const names = providerNames(doc);
  const notAProvider = `must be one of ${names.join(', ')}`;
  for (const [alias, route] of Object.entries(doc.routes)) {
    const index = route.targets.findIndex((t) => !names.includes(t.provider));
    if (index >= 0) return `routes.${alias}.targets[${index}].provider ${notAProvider}`;
  }
  const index = doc.fallback_providers?.findIndex((p) => !names.includes(p)) ?? -1;
  if (index >= 0) return `fallback_providers[${index}] ${notAProvider}`;
  return undefined;
}

export function loadRoutingSettings(env: Env, readText: (path: string) => string): RoutingSettings {
  const path = env.GATEWAY_CONFIG?.trim() || undefined;
  const inline = env.GATEWAY_CONFIG_JSON?.trim() || undefined;
  if (path !== undefined && inline !== undefined) throw new ConfigError('GATEWAY_CONFIG and GATEWAY_CONFIG_JSON are both set; set only one');
  if (inline !== undefined) return { routing: parseRoutingJson(parseJson(inline, 'GATEWAY_CONFIG_JSON is not valid JSON'), 'GATEWAY_CONFIG_JSON') };
  if (path === undefined) return { routing: parseRoutingJson({}, 'GATEWAY_CONFIG') };
  let text: string;
  try {
    text = readText(path);
  } catch (err) {
    throw new ConfigError(`GATEWAY_CONFIG: cannot read "${path}": ${(err as Error).message}`);
  }
  return { routing: parseRoutingJson(parseJson(text, `GATEWAY_CONFIG: "${path}" is not valid JSON`), `GATEWAY_CONFIG (${path})`) };
}

function parseJson(text: string, failure: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${failure}: ${(err as Error).message}`);
  }
}
