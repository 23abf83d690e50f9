// What OpenAI-compatible named backends say they serve: their own `GET /models`, fetched on the
// first /v1/models that needs it and kept for a while, so listing models never waits on a backend
// more than once per interval. A backend that fails or answers nonsense lists nothing (logged),
// and is asked again sooner than a good one; /v1/models itself never fails because of it.
import type { Logger } from './logger';
import { getJson } from './providers/upstream-http';

/** Where one backend lists its models, and the headers it wants. */
export interface ModelListSource {
  url: string;
  headers: Record<string, string>;
}

const LIST_TTL_MS = 5 * 60_000;
const FAILURE_TTL_MS = 30_000;
/** A listing is a courtesy: it may not hold up /v1/models for long. */
const LIST_TIMEOUT_MS = 1500;

export class BackendModels {
  private readonly cached = new Map<string, { until: number; ids: Promise<string[]> }>();

  constructor(
    private readonly sources: ReadonlyMap<string, ModelListSource>,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  /** The model ids the named provider's backend lists; empty when it has no list or cannot be asked. */
  of(provider: string): Promise<string[]> {
    const source = this.sources.get(provider);
    if (!source) return Promise.resolve([]);
    const now = this.now();
    const hit = this.cached.get(provider);
    if (hit && now < hit.until) return hit.ids;
    const entry = { until: now + LIST_TTL_MS, ids: this.fetch(provider, source) };
    // A failed listing is kept for less time than a good one, so a backend back up shows soon.
    entry.ids = entry.ids.then(
      (ids) => ids,
      () => {
        entry.until = now + FAILURE_TTL_MS;
        return [];
      },
    );
    this.cached.set(provider, entry);
    return entry.ids;
  }

  private async fetch(provider: string, source: ModelListSource): Promise<string[]> {
    try {
      const body = (await getJson(provider, source.url, source.headers, LIST_TIMEOUT_MS)) as { data?: unknown };
      if (!Array.isArray(body.data)) throw new Error('the answer has no data array');
      return body.data.flatMap((m: unknown) => {
        const id = typeof m === 'object' && m !== null ? (m as { id?: unknown }).id : undefined;
        return typeof id === 'string' && id !== '' ? [id] : [];
      });
    } catch (err) {
      this.logger.warn('could not list a backend’s models', { provider, error: (err as Error).message });
      throw err;
    }
  }
}
