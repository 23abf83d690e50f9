// Breaker states in the "state" table, all under one partition: pk CB, sk <provider>. One
// partition (instead of pk CB#<provider>) is what lets all() be a single Query rather than a Scan
// over every rate-limit and cache item; breaker writes are few, so it is never a hot partition.
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CLOSED } from '../../core/breaker';
import type { BreakerPhase, BreakerState, BreakerStateStore } from '../../core/ports';
import { queryPartition } from './client';

const PK = 'CB';
const PHASES: ReadonlySet<string> = new Set<BreakerPhase>(['closed', 'open', 'half_open']);

export interface DynamoBreakerStoreOptions {
  tableName: string;
}

function toState(item: Record<string, unknown>): BreakerState {
  const { phase, consecutiveFailures, consecutiveSuccesses, openedAtMs } = item;
  if (typeof phase !== 'string' || !PHASES.has(phase)) throw new Error(`malformed breaker item ${String(item.sk)}`);
  return {
    phase: phase as BreakerPhase,
    consecutiveFailures: Number(consecutiveFailures ?? 0),
    consecutiveSuccesses: Number(consecutiveSuccesses ?? 0),
    openedAtMs: Number(openedAtMs ?? 0),
  };
}

export class DynamoBreakerStore implements BreakerStateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly opts: DynamoBreakerStoreOptions,
  ) {}

  async get(provider: string): Promise<BreakerState> {
    // Consistent: another instance's open breaker must be seen at once.
    const out = await this.doc.send(new GetCommand({ TableName: this.opts.tableName, Key: { pk: PK, sk: provider }, ConsistentRead: true }));
    return out.Item ? toState(out.Item) : CLOSED;
  }

  async put(provider: string, state: BreakerState): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.opts.tableName,
        Item: {
          pk: PK,
          sk: provider,
          phase: state.phase,
          consecutiveFailures: state.consecutiveFailures,
          consecutiveSuccesses: state.consecutiveSuccesses,
          openedAtMs: state.openedAtMs,
        },
      }),
    );
  }

  async all(): Promise<Record<string, BreakerState>> {
    const states: Record<string, BreakerState> = {};
    for (const item of await queryPartition(this.doc, this.opts.tableName, PK)) states[String(item.sk)] = toState(item);
    return states;
  }
}
