// SQS event source adapter: an SQS batch becomes the records the usage aggregator takes, and the
// ids of the records that failed become the partial batch response (ReportBatchItemFailures), so
// SQS delivers only those again.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { QueuedRecord } from '../../core/usage-aggregator';

export function fromSqsEvent(event: SQSEvent): QueuedRecord[] {
  return event.Records.map((r) => ({ id: r.messageId, body: r.body }));
}

export function toBatchResponse(failedIds: readonly string[]): SQSBatchResponse {
  return { batchItemFailures: failedIds.map((itemIdentifier) => ({ itemIdentifier })) };
}
