// Lambda function URL adapter: a function URL event (payload format 2.0) becomes the core's
// ApiRequest, and an ApiResponse is written to the runtime's response stream. No runtime globals
// here, so every piece runs in unit tests against plain Node streams.
import type { Writable } from 'node:stream';
import { jsonResponse, type ApiRequest, type ApiResponse } from '../../core/api-types';
import { bodyTooLarge } from '../../core/errors';
import { CancelSignal } from '../../core/cancel';
import { settle, writeChunks } from '../stream-writer';

/** The fields of a function URL request event that the gateway reads. */
export interface FunctionUrlEvent {
  rawPath: string;
  rawQueryString?: string;
  /** Function URLs move the Cookie header here. */
  cookies?: string[];
  /** Lower-case names; repeated headers arrive joined with commas. */
  headers?: Record<string, string | undefined>;
  /** `authorizer.iam` is present when the URL's auth type is AWS_IAM (the CloudFront edge signs every request). */
  requestContext: { http: { method: string }; authorizer?: { iam?: unknown } };
  body?: string | null;
  /** True when the body is binary and therefore base64-encoded. */
  isBase64Encoded?: boolean;
}

/**
 * The stream a streaming handler writes to. Recent runtimes pass an object with Writable's
 * methods bound rather than a Writable instance, so this code relies only on these members
 * (no `stream.pipeline` / `finished` internals).
 */
export type ResponseStream = Pick<Writable, 'write' | 'end' | 'on' | 'once' | 'off' | 'destroy' | 'destroyed' | 'writableFinished'>;

/** Status and headers sent ahead of the body (the runtime writes them as a JSON prelude). */
export interface HttpResponseMetadata {
  statusCode: number;
  headers: Record<string, string>;
}

export type Converted = { kind: 'request'; request: ApiRequest } | { kind: 'response'; response: ApiResponse };

/**
 * Turns the event into an ApiRequest, or into the 413 response when the body is over the limit
 * (checked on the decoded size before decoding, so an oversized body is never copied).
 */
export function toApiRequest(event: FunctionUrlEvent, signal: CancelSignal, maxBodyBytes: number): Converted {
  const raw = event.body ?? '';
  const encoding: BufferEncoding = event.isBase64Encoded ? 'base64' : 'utf8';
  if (Buffer.byteLength(raw, encoding) > maxBodyBytes) {
    return { kind: 'response', response: jsonResponse(413, bodyTooLarge(maxBodyBytes).toBody()) };
  }
  const headers: Record<string, string | undefined> = {};
  // Function URLs already lower-case names; doing it again keeps hand-built events honest.
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  if (event.cookies && event.cookies.length > 0) headers.cookie = event.cookies.join('; ');
  if (signedByCloudFront(event, headers)) restoreViewerAuthorization(headers);
  return {
    kind: 'request',
    request: {
      method: event.requestContext.http.method.toUpperCase(),
      path: event.rawPath || '/',
      // URLSearchParams drops a leading "?", which some documented examples include.
      query: new URLSearchParams(event.rawQueryString ?? ''),
      headers,
      body: Buffer.from(raw, encoding),
      signal,
    },
  };
}

/** Where the CloudFront edge's viewer-request function keeps the client's own Authorization header. */
export const VIEWER_AUTHORIZATION = 'x-viewer-authorization';

/** An IAM-authenticated event whose Authorization is the SigV4 signature Lambda verified (or was removed). */
function signedByCloudFront(event: FunctionUrlEvent, headers: Record<string, string | undefined>): boolean {
  if (event.requestContext.authorizer?.iam === undefined) return false;
  return headers.authorization === undefined || headers.authorization.startsWith('AWS4-');
}

/**
 * Behind the CloudFront edge, CloudFront's SigV4 signature takes the place of the client's
 * Authorization header (the tenant key), which the edge moved to x-viewer-authorization. Only an
 * IAM-authenticated event, one CloudFront signed, gets it back; the signature itself is no
 * concern of the gateway's.
 */
function restoreViewerAuthorization(headers: Record<string, string | undefined>): void {
  const viewer = headers[VIEWER_AUTHORIZATION];
  delete headers[VIEWER_AUTHORIZATION];
  if (viewer === undefined) delete headers.authorization;
  else headers.authorization = viewer;
}

/** The status and headers for `awslambda.HttpResponseStream.from`. */
export function responseMetadata(response: ApiResponse): HttpResponseMetadata {
  // No content-length: the function URL sends a streamed response with chunked encoding.
  return { statusCode: response.status, headers: response.headers };
}

/**
 * A CancelSignal that fires when the response stream closes or fails before the response was
 * fully written, i.e. the client is gone. (The AWS runtime does not report client disconnects
 * today, see the handler; a stream error or an emulator's close does cancel.)
 */
export function cancelOnEarlyClose(stream: ResponseStream): CancelSignal {
  const signal = new CancelSignal();
  const gone = (): void => {
    if (!stream.writableFinished) signal.cancel();
  };
  stream.once('close', gone);
  // A permanent 'error' listener also keeps a failed write from becoming an uncaught exception.
  stream.on('error', gone);
  return signal;
}

/**
 * Writes the body and ends the stream, resolving once it has finished (the runtime fails an
 * invocation whose handler returns before its stream finished). Streams are written chunk by
 * chunk as they come, waiting for 'drain' whenever the stream asks for it.
 */
export async function writeBody(stream: ResponseStream, body: ApiResponse['body']): Promise<void> {
  if (typeof body === 'string') {
    // write() then end(), never end(body): the runtime emits the status/headers prelude from its
    // write() hook, which end(chunk) bypasses; an empty body still needs that write.
    if (stream.destroyed) return;
    stream.write(body);
    await endAndFinish(stream);
    return;
  }
  await writeChunks(stream, body);
  await endAndFinish(stream);
}

async function endAndFinish(stream: ResponseStream): Promise<void> {
  if (stream.destroyed) return;
  const finished = settle(stream, ['finish', 'close', 'error']);
  stream.end();
  await finished;
}
