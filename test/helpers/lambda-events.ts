// Function URL and SQS events as Lambda documents them (test/fixtures/lambda), carrying a test's
// request or messages: what a bundle receives when it runs as the deployed function.
import { randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { FunctionUrlEvent } from '../../functions/adapters/lambda/function-url';
import { fixtureJson } from '../unit/fixture-files';

export interface FunctionUrlRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** The documented function URL event (payload 2.0) for one request; only the request's headers. */
export function functionUrlEvent(req: FunctionUrlRequest): FunctionUrlEvent {
  const doc = fixtureJson<FunctionUrlEvent & { requestContext: { http: Record<string, string> }; queryStringParameters?: unknown }>(
    'lambda/function-url-event.json',
  );
  doc.rawPath = req.path;
  doc.rawQueryString = '';
  delete doc.queryStringParameters;
  delete doc.cookies;
  doc.headers = { ...req.headers };
  doc.requestContext.http.method = req.method;
  doc.requestContext.http.path = req.path;
  doc.body = req.body ?? null;
  doc.isBase64Encoded = false;
  return doc;
}

/** The documented SQS event with one record per body, each with a fresh message id. */
export function sqsEvent(bodies: string[]): SQSEvent {
  const template = fixtureJson<SQSEvent>('lambda/sqs-event.json').Records[0] as SQSRecord;
  return { Records: bodies.map((body) => ({ ...template, messageId: randomUUID(), body })) };
}
