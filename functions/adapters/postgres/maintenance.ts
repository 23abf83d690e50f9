// What PostgreSQL does not expire by itself: usage request-id markers past any redelivery (15
// days, as in Redis), budget accounts and alert claims long after their month (45 days), and
// stored responses past their expiry. Pruned at start and then hourly by each replica; the
// deletes are idempotent, so replicas doing it at once only repeat each other's work.
import type { PgDatabase } from './pool';

const PRUNE = [
  "DELETE FROM usage_requests WHERE counted_at < now() - interval '15 days'",
  "DELETE FROM budget_accounts WHERE updated_at < now() - interval '45 days'",
];

const HOUR_MS = 3_600_000;

export async function prune(db: PgDatabase, nowMs: number): Promise<void> {
  for (const text of PRUNE) await db.query({ text });
  // Claims and stored responses carry the gateway's clock, so they age by it too.
  await db.query({ text: "DELETE FROM alert_claims WHERE claimed_at < to_timestamp($1::double precision / 1000) - interval '45 days'" }, [nowMs]);
  await db.query({ text: 'DELETE FROM stored_responses WHERE expires_at_ms <= $1' }, [nowMs]);
}

/** Prunes now and every hour until stopped; a failure waits for the next round. */
export function startPruning(db: PgDatabase, now: () => number, onError: (err: unknown) => void): () => void {
  const run = (): void => void prune(db, now()).catch(onError);
  run();
  const timer = setInterval(run, HOUR_MS);
  timer.unref();
  return () => clearInterval(timer);
}
