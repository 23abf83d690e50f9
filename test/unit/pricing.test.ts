// PriceBook: costs from the shipped catalog (read here independently), lookups and overrides.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { PriceBook, tokenCountsOf, type ModelPrice, type TokenCounts } from '../../functions/core/pricing/pricing';

interface Catalog {
  models: Record<string, ModelPrice>;
}

const catalog = JSON.parse(readFileSync(join(__dirname, '..', '..', 'functions', 'core', 'pricing', 'catalog.json'), 'utf8')) as Catalog;

function priceOf(model: string): ModelPrice {
  const p = catalog.models[model];
  if (!p) throw new Error(`catalog has no ${model}`);
  return p;
}

const tokens = (t: Partial<TokenCounts>): TokenCounts => ({ prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, cache_write_tokens: 0, ...t });

describe('PriceBook.cost', () => {
  const book = new PriceBook();

  it('prices gpt-4o prompt and completion tokens at the catalog rates', () => {
    const p = priceOf('gpt-4o');
    const expected = (1200 * p.input_per_mtok + 345 * p.output_per_mtok) / 1e6;
    expect(book.cost('gpt-4o', tokens({ prompt_tokens: 1200, completion_tokens: 345 }))).toBeCloseTo(expected, 12);
  });

  it('prices a million tokens of each kind at exactly the per-million rate', () => {
    const p = priceOf('gpt-4o');
    expect(book.cost('gpt-4o', tokens({ prompt_tokens: 1_000_000 }))).toBeCloseTo(p.input_per_mtok, 10);
    expect(book.cost('gpt-4o', tokens({ completion_tokens: 1_000_000 }))).toBeCloseTo(p.output_per_mtok, 10);
  });

  it('prices cached prompt tokens at cache_read_per_mtok and the rest of the prompt at the input rate', () => {
    const p = priceOf('gpt-4o');
    expect(p.cache_read_per_mtok).toBeDefined();
    const cacheRead = p.cache_read_per_mtok ?? NaN;
    const expected = ((2000 - 1500) * p.input_per_mtok + 1500 * cacheRead + 100 * p.output_per_mtok) / 1e6;
    const cost = book.cost('gpt-4o', tokens({ prompt_tokens: 2000, cached_tokens: 1500, completion_tokens: 100 }));
    expect(cost).toBeCloseTo(expected, 12);
    // and it is cheaper than the same request without cache hits
    expect(cost).toBeLessThan(book.cost('gpt-4o', tokens({ prompt_tokens: 2000, completion_tokens: 100 })) ?? 0);
  });

  it('reads cached tokens from an OpenAI usage object', () => {
    const counts = tokenCountsOf({ prompt_tokens: 2000, completion_tokens: 100, total_tokens: 2100, prompt_tokens_details: { cached_tokens: 1500 } });
    expect(counts).toMatchObject({ prompt_tokens: 2000, completion_tokens: 100, cached_tokens: 1500 });
  });

  it('falls back from a dated model name that is not in the catalog to its undated entry', () => {
    const dated = 'claude-haiku-4-5-20991231';
    expect(catalog.models[dated]).toBeUndefined();
    const p = priceOf('claude-haiku-4-5');
    const t = tokens({ prompt_tokens: 1000, completion_tokens: 1000 });
    expect(book.cost(dated, t)).toBeCloseTo((1000 * p.input_per_mtok + 1000 * p.output_per_mtok) / 1e6, 12);
  });

  it('falls back from an ISO-dated OpenAI name that is not in the catalog', () => {
    const dated = 'gpt-4o-mini-2099-01-01';
    expect(catalog.models[dated]).toBeUndefined();
    expect(book.lookup(dated)).toEqual(priceOf('gpt-4o-mini'));
  });

  it('strips a provider/ prefix', () => {
    expect(book.lookup('openai/gpt-4o')).toEqual(priceOf('gpt-4o'));
    const t = tokens({ prompt_tokens: 10, completion_tokens: 20 });
    expect(book.cost('openai/gpt-4o', t)).toBe(book.cost('gpt-4o', t));
  });

  it('returns undefined for a model with no known price', () => {
    expect(catalog.models['llama3.2']).toBeUndefined();
    expect(book.lookup('llama3.2')).toBeUndefined();
    expect(book.cost('llama3.2', tokens({ prompt_tokens: 10, completion_tokens: 10 }))).toBeUndefined();
  });

  it('charges nothing on a free provider, even for a priced model', () => {
    expect(book.cost('llama3.2', tokens({ prompt_tokens: 10, completion_tokens: 10 }), true)).toBe(0);
    expect(book.cost('gpt-4o', tokens({ prompt_tokens: 10, completion_tokens: 10 }), true)).toBe(0);
  });
});

describe('PriceBook overrides (GATEWAY_CONFIG prices)', () => {
  it('replaces the catalog price of a model and keeps its provider', () => {
    const book = new PriceBook({ 'gpt-4o': { input_per_mtok: 1, output_per_mtok: 2 } });
    const t = tokens({ prompt_tokens: 1_000_000, completion_tokens: 1_000_000 });
    expect(book.cost('gpt-4o', t)).toBeCloseTo(3, 10);
    expect(book.lookup('gpt-4o')?.provider).toBe(priceOf('gpt-4o').provider);
  });

  it('adds a price for a model the catalog does not know', () => {
    const book = new PriceBook({ 'my-local-model': { input_per_mtok: 0.5, output_per_mtok: 1.5 } });
    expect(book.cost('my-local-model', tokens({ prompt_tokens: 2_000_000, completion_tokens: 1_000_000 }))).toBeCloseTo(2.5, 10);
    // another book is not affected
    expect(new PriceBook().lookup('my-local-model')).toBeUndefined();
  });
});

describe('PriceBook.modelsOf', () => {
  it('lists openai models, including gpt-4o and no claude model', () => {
    const names = new PriceBook().modelsOf('openai').map(([name]) => name);
    expect(names).toContain('gpt-4o');
    expect(names.filter((n) => n.includes('claude'))).toEqual([]);
    const expected = Object.entries(catalog.models)
      .filter(([, p]) => p.provider === 'openai')
      .map(([n]) => n);
    expect([...names].sort()).toEqual([...expected].sort());
  });

  it('lists anthropic models without any gpt model', () => {
    const names = new PriceBook().modelsOf('anthropic').map(([name]) => name);
    expect(names).toContain('claude-haiku-4-5');
    expect(names.filter((n) => n.startsWith('gpt'))).toEqual([]);
  });
});
