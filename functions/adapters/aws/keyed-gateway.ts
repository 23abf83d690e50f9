// The chat function's gateway with its provider keys from Secrets Manager. Composed at cold start
// with the keys read then; when a background refresh brings different keys, a new gateway is
// composed in the background and serves from the next request on. Recomposing (rather than
// patching keys into providers) also makes a provider whose key appears or disappears join or
// leave the fallback order; shared state (tenants, limits, breakers, cache, usage) lives in the
// stores, so nothing of it is lost. What the keys do not change (the foundation: stores, usage
// pipeline) is composed once, while the secret is read, and shared by every recomposition.
import type { ComposedGateway } from '../compose';
import type { ProviderSettings } from '../../config';
import type { Logger } from '../../core/logger';
import { keyedProviders, withProviderKeys, type ProviderKeys } from './provider-keys';
import type { CachedSecret } from './secrets';

export interface GatewaySource {
  /** The gateway to serve this request with (never waits on Secrets Manager once set up). */
  get(): Promise<ComposedGateway>;
}

/** Any config with the provider sections: the keys are put into those, the rest passes through to compose. */
export interface KeyedGatewayOptions<TConfig extends ProviderSettings, TFoundation = undefined> {
  config: TConfig;
  /** Composes what does not depend on the keys; started at once, beside the secret read. */
  foundation?: () => Promise<TFoundation>;
  compose: (config: TConfig, foundation: TFoundation) => Promise<ComposedGateway>;
  /** Absent when no provider secret is configured: keys then come from the environment only. */
  secret?: CachedSecret<ProviderKeys>;
  logger: Logger;
}

/** For a promise whose outcome does not matter, only that it settled. */
const ignore = (): void => undefined;

export function keyedGateway<TConfig extends ProviderSettings, TFoundation = undefined>({
  config,
  foundation,
  compose,
  secret,
  logger,
}: KeyedGatewayOptions<TConfig, TFoundation>): GatewaySource {
  const startFoundation = (): Promise<TFoundation> => (foundation ? foundation() : Promise.resolve(undefined as TFoundation));
  // Composing the stores is CPU work (loading the DynamoDB client), and the SDK reads its config
  // files before it sends: the stores are composed once the secret's request has left (or the
  // read is over, whichever comes first), so that its round trip overlaps them.
  const startFoundationOnceSent = (sent: Promise<void>, read: Promise<unknown>): Promise<TFoundation> =>
    Promise.race([sent, read.then(ignore, ignore)])
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(startFoundation);
  let base: Promise<TFoundation> | undefined;
  const setup = async (): Promise<ComposedGateway> => {
    // The secret's request goes out first; the foundation is composed during its round trip.
    let sent: () => void = ignore;
    const requestSent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const keys = secret?.load(() => sent());
    base ??= keys ? startFoundationOnceSent(requestSent, keys) : startFoundation();
    const mine = base;
    try {
      if (!keys) return compose(config, await mine);
      const [read, ready] = await Promise.all([keys, mine]);
      logger.info('provider keys read', { providers: keyedProviders(read) });
      return compose(withProviderKeys(config, read), ready);
    } catch (err) {
      // A foundation that failed (a store client that could not be set up) is composed again on retry.
      await mine.then(
        () => undefined,
        () => {
          if (base === mine) base = undefined;
        },
      );
      throw err;
    }
  };
  let active = setup();
  let failed = false;
  const watch = (p: Promise<ComposedGateway>): void => {
    p.catch((err: unknown) => {
      failed = true;
      logger.error('gateway setup failed', { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    });
  };
  watch(active);

  // Only the newest recomposition may take over, whatever order they finish in.
  let generation = 0;
  secret?.onChange((keys) => {
    const mine = ++generation;
    base ??= startFoundation();
    base
      .then((ready) => compose(withProviderKeys(config, keys), ready))
      .then(
        (next) => {
          if (mine !== generation) return;
          active = Promise.resolve(next);
          logger.info('provider keys changed; serving with the new keys', { providers: keyedProviders(keys) });
        },
        (err: unknown) =>
          logger.error('could not set up the gateway with the new provider keys; keeping the previous ones', {
            error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
          }),
      );
  });

  return {
    get() {
      // A failed cold start (e.g. Secrets Manager briefly unreachable) is retried by the next
      // request rather than leaving this instance broken until Lambda recycles it.
      if (failed) {
        failed = false;
        active = setup();
        watch(active);
      }
      return active.then((composed) => {
        secret?.current(); // starts a background refresh when one is due; never waits for it
        return composed;
      });
    },
  };
}
