/**
 * Fake Azure OpenAI resource: OpenAI's chat-completions wire format (the OpenAI fixtures' bodies
 * and SSE events) behind Azure's addressing, as Azure OpenAI's data-plane inference REST
 * reference describes it (learn.microsoft.com/azure/ai-services/openai/reference, API version
 * 2024-10-21; the dated-API section of openai-node's docs/azure.md says the same):
 * `POST {endpoint}/openai/deployments/{deployment-id}/chat/completions?api-version=…`, the key in
 * the `api-key` header, and `{ "error": { "code", "message" } }` bodies for failures (401 for a
 * bad key, 404 `DeploymentNotFound` for an unknown deployment, 404 for a missing api-version).
 * The answer's `model` is the deployment's model, as Azure reports it, not the deployment name.
 */
import { isRecord, readFixture, sendBody, splitSse, startFakeServer, writeStream, type Exchange, type FakeUpstream } from './fixtures';

export type { FakeUpstream, RecordedRequest } from './fixtures';

const JSON_CT = 'application/json';
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const COMPLETION = readFixture('openai/chat-nonstream.recorded.response.json');
const TOOLS = readFixture('openai/tools-nonstream.recorded.response.json');
const TEXT_STREAM = splitSse(readFixture('openai/chat-stream.sse.txt')).map((e) => Buffer.from(e));
const TOOLS_STREAM = splitSse(readFixture('openai/tools-stream.sse.txt')).map((e) => Buffer.from(e));
const ROUTE = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;

const azureError = (code: string, message: string): string => JSON.stringify({ error: { code, message } });

export interface AzureOptions {
  apiKey: string;
  /** Deployment name → the model it serves. */
  deployments: Record<string, string>;
}

export function startAzureOpenAIUpstream(opts: AzureOptions): Promise<FakeUpstream> {
  const handler = (ex: Exchange): void => {
    const { req, res, pathname } = ex;
    if (req.headers['api-key'] !== opts.apiKey) {
      sendBody(res, 401, JSON_CT, azureError('401', 'Access denied due to invalid subscription key or wrong API endpoint.'));
      return;
    }
    const query = new URL(req.url ?? '/', 'http://fake').searchParams;
    if (!query.get('api-version')) {
      sendBody(res, 404, JSON_CT, azureError('404', 'Resource not found'));
      return;
    }
    const b = ex.behaviour;
    if (b?.status !== undefined) {
      sendBody(res, b.status, JSON_CT, b.body ?? azureError(String(b.status), 'The service is temporarily unavailable.'));
      return;
    }
    const route = ROUTE.exec(pathname);
    const deployment = route ? decodeURIComponent(route[1] ?? '') : '';
    const model = opts.deployments[deployment];
    if (req.method !== 'POST' || model === undefined) {
      sendBody(res, 404, JSON_CT, azureError('DeploymentNotFound', 'The API deployment for this resource does not exist.'));
      return;
    }
    const body = isRecord(ex.recorded.json) ? ex.recorded.json : {};
    const tools = Array.isArray(body.tools) && body.tools.length > 0;
    if (body.stream === true) {
      writeStream(ex, 200, SSE_HEADERS, tools ? TOOLS_STREAM : TEXT_STREAM);
      return;
    }
    const answer = JSON.parse(tools ? TOOLS : COMPLETION) as Record<string, unknown>;
    sendBody(res, 200, JSON_CT, JSON.stringify({ ...answer, model }));
  };
  return startFakeServer(handler, '');
}
