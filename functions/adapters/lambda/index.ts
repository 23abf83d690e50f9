// functions/adapters/lambda — one module per Lambda event type, converting that event to the core's
// one HTTP contract (ApiRequest → ApiHandler → ApiResponse) and the answer back, or, for queues, the
// batch to the records the core takes and its failures back. Only conversion belongs here: routing,
// authentication and business rules are the core's; configuration and stores are composed by the
// entries under functions/<name>/. middy sits only in http-api-edge.ts (the admin and usage edges).
//
// function-url.ts: function URL events and the response stream; http-api.ts (+ http-api-edge.ts,
// its middy handler): API Gateway HTTP API payload 2.0; sqs.ts: SQS batches and partial batch
// responses.
export { cancelOnEarlyClose, responseMetadata, toApiRequest, writeBody, type FunctionUrlEvent, type ResponseStream } from './function-url';
export { fromHttpApiEvent, stagePath, toHttpApiResult, type HttpApiEvent, type HttpApiResult } from './http-api';
export { fromParserError, httpApiEdge, type HttpApiEdge, type HttpApiEdgeOptions } from './http-api-edge';
export { fromSqsEvent, toBatchResponse } from './sqs';
