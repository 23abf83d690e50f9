// functions/core/pricing — what a request costs: the model price catalog (catalog.json) with the
// routing document's price overrides, and a cost from a request's usage. Recording the cost
// (accounting, budgets, usage totals) belongs to the pipeline, not here.
import catalogJson from './catalog.json';
import type { PriceOverride } from '../../config';
import type { Usage } from '../openai-types';

export interface ModelPrice {
  provider: string;
  input_per_mtok: number;
  output_per_mtok: number;
  cache_read_per_mtok?: number;
  cache_write_per_mtok?: number;
  kind?: string;
}

interface CatalogFile {
  source: string;
  source_commit: string;
  retrieved: string;
  models: Record<string, ModelPrice>;
}

const catalog = catalogJson as CatalogFile;

/** Token counts that determine a request's cost. */
export interface TokenCounts {
  prompt_tokens: number;
  completion_tokens: number;
  /** Prompt tokens served from the provider's prompt cache (a subset of prompt_tokens). */
  cached_tokens: number;
  /** Prompt tokens written to the provider's prompt cache (billed at the cache-write price). */
  cache_write_tokens: number;
}

export function tokenCountsOf(usage: Usage | undefined): TokenCounts {
  return {
    prompt_tokens: usage?.prompt_tokens ?? 0,
    completion_tokens: usage?.completion_tokens ?? 0,
    cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    // Anthropic and Bedrock report prompt-cache writes here (see their providers' usage mapping).
    cache_write_tokens: Number(usage?.prompt_tokens_details?.cache_creation_tokens ?? 0),
  };
}

/** Known model prices: the shipped catalog, overlaid with GATEWAY_CONFIG `prices`. */
export class PriceBook {
  private readonly prices: Map<string, ModelPrice>;

  constructor(overrides: Record<string, PriceOverride> = {}) {
    this.prices = new Map(Object.entries(catalog.models));
    for (const [model, p] of Object.entries(overrides)) {
      this.prices.set(model, { provider: this.prices.get(model)?.provider ?? '', ...p });
    }
  }

  /**
   * The price of a model as a provider reports it; tries the name as given, then without a
   * `provider/` prefix, then without a trailing date stamp (`gpt-4o-2024-08-06` → `gpt-4o`).
   */
  lookup(model: string): ModelPrice | undefined {
    const exact = this.prices.get(model);
    if (exact) return exact;
    const slash = model.indexOf('/');
    if (slash > 0) return this.lookup(model.slice(slash + 1));
    const undated = model.replace(/-\d{4}-\d{2}-\d{2}$/, '').replace(/-\d{8}$/, '');
    return undated !== model ? this.prices.get(undated) : undefined;
  }

  /** Catalog models served by one provider (for /v1/models). */
  modelsOf(provider: string): Array<[string, ModelPrice]> {
    return [...this.prices].filter(([, p]) => p.provider === provider);
  }

  /** USD cost of one request, or undefined when the model has no known price. */
  cost(model: string, tokens: TokenCounts, freeProvider = false): number | undefined {
    if (freeProvider) return 0;
    const price = this.lookup(model);
    if (!price) return undefined;
    const uncached = Math.max(0, tokens.prompt_tokens - tokens.cached_tokens - tokens.cache_write_tokens);
    const usdTimesMillion =
      uncached * price.input_per_mtok +
      tokens.cached_tokens * (price.cache_read_per_mtok ?? price.input_per_mtok) +
      tokens.cache_write_tokens * (price.cache_write_per_mtok ?? price.input_per_mtok) +
      tokens.completion_tokens * price.output_per_mtok;
    // Round to 1e-10 USD so sums of many requests stay exact enough to bill.
    return Math.round(usdTimesMillion * 1e4) / 1e10;
  }
}
