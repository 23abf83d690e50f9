// TRUST_PROXY: how many reverse proxies' X-Forwarded-For entries the gateway believes.
import { ConfigError, loadConfig } from '../../functions/config';

const load = (env: Record<string, string>) =>
  loadConfig(
    env,
    () => {
      throw new Error('no file');
    },
    '9.9.9',
  );

describe('TRUST_PROXY', () => {
  it('defaults to 0: X-Forwarded-For is ignored', () => {
    expect(load({}).trustProxy).toBe(0);
  });

  it.each([
    ['false', 0],
    ['true', 1],
    ['TRUE', 1],
    ['0', 0],
    ['2', 2],
    ['10', 10],
  ])('reads %s as %d hop(s)', (raw, hops) => {
    expect(load({ TRUST_PROXY: raw }).trustProxy).toBe(hops);
  });

  it.each(['-1', '1.5', '11', 'yes', 'loopback'])('refuses %s, naming TRUST_PROXY', (raw) => {
    let err: unknown;
    try {
      load({ TRUST_PROXY: raw });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('TRUST_PROXY');
  });
});
