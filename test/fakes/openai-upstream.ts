/**
 * Fake OpenAI upstream (Chat Completions, Responses, embeddings, models) speaking the real wire
 * format, built from the recorded fixtures in test/fixtures/openai/. Fixture bytes are prepared
 * at module load; a Responses answer only has its id and model swapped per request.
 */
import { STATUS_CODES } from 'node:http';
import {
  firstToolName,
  isRecord,
  lastMessage,
  MAX_RECORDED_REQUESTS,
  memo,
  messageText,
  readFixture,
  readFixtureJson,
  sendBody,
  splitSse,
  startFakeServer,
  textPieces,
  writeStream,
  type Exchange,
  type FakeUpstream,
} from './fixtures';

export type { Behaviour, FakeUpstream, RecordedRequest } from './fixtures';

// ---------------------------------------------------------------------------------------------
// Fixture-derived bytes (module load only)
// ---------------------------------------------------------------------------------------------

interface ToolCallFixture {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}
interface CompletionFixture {
  choices: Array<{ message: Record<string, unknown> & { tool_calls?: ToolCallFixture[] } } & Record<string, unknown>>;
  [k: string]: unknown;
}
interface ChunkFixture {
  choices: Array<{ delta: Record<string, unknown> } & Record<string, unknown>>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } & Record<string, unknown>;
  [k: string]: unknown;
}

const JSON_CT = 'application/json';
const SSE_HEADERS: Record<string, string> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

const CHAT_RAW = readFixture('openai/chat-nonstream.recorded.response.json');
const CHAT_BUF = Buffer.from(CHAT_RAW);
const CHAT = JSON.parse(CHAT_RAW) as CompletionFixture;
const TOOLS = JSON.parse(readFixture('openai/tools-nonstream.recorded.response.json')) as CompletionFixture;
const MODELS_BUF = Buffer.from(readFixture('openai/models-list.response.json'));

const isUsageEvent = (e: string): boolean => e.includes('"choices":[]');
const isDoneEvent = (e: string): boolean => e.startsWith('data: [DONE]');
const eventJson = (e: string): ChunkFixture => JSON.parse(e.slice('data: '.length)) as ChunkFixture;
const toEvent = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;

interface SseSet {
  withUsage: Buffer[];
  withoutUsage: Buffer[];
}
function sseSet(events: readonly string[]): SseSet {
  return {
    withUsage: events.map((e) => Buffer.from(e)),
    withoutUsage: events.filter((e) => !isUsageEvent(e)).map((e) => Buffer.from(e)),
  };
}

// Text stream (recorded): role chunk, content chunks, finish chunk, usage chunk, [DONE].
const TEXT_EVENTS = splitSse(readFixture('openai/chat-stream.sse.txt'));
const TEXT_SSE = sseSet(TEXT_EVENTS);

// Pieces for synthetic streams (streamChunks): same id / created / model / fingerprint as the fixture.
const ROLE_EVENT = TEXT_EVENTS[0]!;
const CONTENT_EVENT_TEMPLATE = (() => {
  const src = TEXT_EVENTS.find(
    (e) => !isDoneEvent(e) && typeof eventJson(e).choices[0]?.delta.content === 'string' && eventJson(e).choices[0]?.delta.content !== '',
  );
  if (!src) throw new Error('openai fixture: no content chunk in chat-stream.sse.txt');
  const o = eventJson(src);
  o.choices[0]!.delta = { content: '__FAKE_TOKEN__' };
  const [prefix, suffix] = toEvent(o).split('"__FAKE_TOKEN__"') as [string, string];
  return { prefix, suffix };
})();
const FINISH_EVENT = TEXT_EVENTS.find((e) => !isDoneEvent(e) && !isUsageEvent(e) && eventJson(e).choices[0]?.finish_reason != null)!;
const USAGE_TEMPLATE = eventJson(TEXT_EVENTS.find(isUsageEvent)!);
const DONE_EVENT = TEXT_EVENTS.find(isDoneEvent)!;

// Tool-call stream (recorded): the first delta carries the function name.
const TOOL_EVENTS = splitSse(readFixture('openai/tools-stream.sse.txt'));
const TOOL_NAME_INDEX = TOOL_EVENTS.findIndex((e) => e.includes('"name":'));
const TOOL_FIXTURE_NAME = (() => {
  const calls = eventJson(TOOL_EVENTS[TOOL_NAME_INDEX]!).choices[0]?.delta.tool_calls as ToolCallFixture[] | undefined;
  const name = calls?.[0]?.function.name;
  if (!name) throw new Error('openai fixture: no tool name in tools-stream.sse.txt');
  return name;
})();
const TOOL_NAME_TOKEN = `"name":${JSON.stringify(TOOL_FIXTURE_NAME)}`;
const TOOL_SSE_CACHE = new Map<string, SseSet>();
function toolSse(name: string): SseSet {
  return memo(TOOL_SSE_CACHE, name, () =>
    sseSet(TOOL_EVENTS.map((e, i) => (i === TOOL_NAME_INDEX ? e.replace(TOOL_NAME_TOKEN, `"name":${JSON.stringify(name)}`) : e))),
  );
}
toolSse(TOOL_FIXTURE_NAME);

/** A text stream in the recorded frame: the role chunk, one content chunk per piece, the finish and usage chunks, [DONE]. */
function textSse(pieces: readonly string[]): SseSet {
  const events = [ROLE_EVENT];
  for (const piece of pieces) events.push(`${CONTENT_EVENT_TEMPLATE.prefix}${JSON.stringify(piece)}${CONTENT_EVENT_TEMPLATE.suffix}`);
  events.push(FINISH_EVENT);
  const prompt = USAGE_TEMPLATE.usage?.prompt_tokens ?? 0;
  const n = pieces.length;
  events.push(toEvent({ ...USAGE_TEMPLATE, usage: { ...USAGE_TEMPLATE.usage, prompt_tokens: prompt, completion_tokens: n, total_tokens: prompt + n } }));
  events.push(DONE_EVENT);
  return sseSet(events);
}

const SYNTH_CACHE = new Map<string, SseSet>();
function syntheticSse(n: number): SseSet {
  return memo(SYNTH_CACHE, String(n), () => textSse(Array.from({ length: n }, (_, i) => `tok${i} `)));
}

const TOOL_NONSTREAM_CACHE = new Map<string, Buffer>();
function toolCallCompletion(name: string): Buffer {
  return memo(TOOL_NONSTREAM_CACHE, name, () =>
    Buffer.from(
      JSON.stringify({
        ...TOOLS,
        choices: TOOLS.choices.map((c) => ({
          ...c,
          message: { ...c.message, tool_calls: (c.message.tool_calls ?? []).map((tc) => ({ ...tc, function: { ...tc.function, name } })) },
        })),
      }),
    ),
  );
}

function textCompletion(content: string): string {
  return JSON.stringify({ ...CHAT, choices: CHAT.choices.map((c) => ({ ...c, message: { ...c.message, content } })) });
}

// ---------------------------------------------------------------------------------------------
// Errors (shape: fixtures/openai/errors.json)
// ---------------------------------------------------------------------------------------------

function errorBody(message: string, type: string, param: string | null, code: string | null): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

const INVALID_JSON_MESSAGE =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
  'The OpenAI API expects a JSON payload, but what was sent was not valid JSON. ' +
  'If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)';

function maskKey(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(Math.min(key.length - 7, 20))}${key.slice(-4)}`;
}

const RATE_LIMIT_HEADERS: Record<string, string> = {
  'x-ratelimit-limit-requests': '60',
  'x-ratelimit-remaining-requests': '0',
  'x-ratelimit-reset-requests': '1s',
};

function defaultError(status: number, model: string | undefined): { body: string; headers?: Record<string, string> } {
  switch (status) {
    case 400:
      return { body: errorBody('Invalid request.', 'invalid_request_error', null, null) };
    case 401:
      return { body: errorBody('Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key') };
    case 403:
      return { body: errorBody('Country, region, or territory not supported', 'request_forbidden', null, 'unsupported_country_region_territory') };
    case 404:
      return {
        body: errorBody(
          `The model \`${model ?? 'unknown'}\` does not exist or you do not have access to it.`,
          'invalid_request_error',
          null,
          'model_not_found',
        ),
      };
    case 429:
      // errors.json example (type 'requests' is flagged there as community-reported, not official).
      return { body: errorBody('Rate limit reached for requests', 'requests', null, 'rate_limit_exceeded'), headers: RATE_LIMIT_HEADERS };
    case 500:
      return { body: errorBody('The server had an error while processing your request', 'server_error', null, null) };
    case 503:
      return { body: errorBody('The engine is currently overloaded, please try again later', 'server_error', null, null) };
    default:
      return {
        body: errorBody(STATUS_CODES[status] ?? `HTTP ${status}`, status >= 500 ? 'server_error' : 'invalid_request_error', null, null),
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Embeddings: the documented example's vector, once per input, as floats or as OpenAI's base64
// (little-endian float32, which the SDK asks for by default)
// ---------------------------------------------------------------------------------------------

const EMBEDDING_EXAMPLE = readFixtureJson<{ data: Array<{ embedding: number[] }>; usage: { prompt_tokens: number } }>('openai/embeddings.response.json');

function embeddingsAnswer(body: Record<string, unknown>): string {
  const inputs = Array.isArray(body.input) && typeof body.input[0] !== 'number' ? body.input : [body.input];
  const vector = EMBEDDING_EXAMPLE.data[0]?.embedding ?? [];
  const encoded = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
  const tokens = EMBEDDING_EXAMPLE.usage.prompt_tokens * inputs.length;
  return JSON.stringify({
    object: 'list',
    data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: encoded })),
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

// ---------------------------------------------------------------------------------------------
// Responses API (/v1/responses): recorded answers replayed with the request's model and a fresh
// response id; a stored response can be retrieved and deleted, as on the real API.
// ---------------------------------------------------------------------------------------------

interface ResponseFixture {
  id: string;
  model: string;
  created_at: number;
  output: Array<Record<string, unknown>>;
  [k: string]: unknown;
}

const RESPONSE_TEXT = readFixtureJson<ResponseFixture>('openai/responses-text.recorded.response.json');
const RESPONSE_TOOL = readFixtureJson<ResponseFixture>('openai/responses-tools.recorded.response.json');
const RESPONSE_DELETED = readFixtureJson<Record<string, unknown>>('openai/responses-deleted.response.json');

/** A recorded stream as one template: its response id and model are swapped per request. */
interface StreamTemplate {
  events: string[];
  id: string;
  model: string;
  /** the `response` of its response.completed event (stored for GET /v1/responses/{id}) */
  completed: ResponseFixture;
  /** the fixture's function name, when the stream is a function call */
  toolName?: string;
}

function streamTemplate(relative: string): StreamTemplate {
  const events = splitSse(readFixture(relative));
  const last = events.at(-1) ?? '';
  const data = last.slice(last.indexOf('data: ') + 'data: '.length).trim();
  const completed = (JSON.parse(data) as { type: string; response: ResponseFixture }).response;
  const call = completed.output.find((item) => item.type === 'function_call');
  return { events, id: completed.id, model: completed.model, completed, toolName: typeof call?.name === 'string' ? call.name : undefined };
}

// Text stream: created, in_progress, output_item.added, content_part.added, output_text.delta…,
// output_text.done, content_part.done, output_item.done, completed (sequence_number 0…16).
const RESPONSE_TEXT_STREAM = streamTemplate('openai/responses-stream.sse.txt');
// Function-call stream (a reasoning model): a reasoning item, then a function_call item with
// function_call_arguments.delta/.done.
const RESPONSE_TOOL_STREAM = streamTemplate('openai/responses-tools-stream.sse.txt');

function replaceAll(text: string, from: string, to: string): string {
  return text.split(from).join(to);
}

function replayStream(t: StreamTemplate, id: string, model: string, toolName: string | undefined): Buffer[] {
  return t.events.map((e) => {
    let out = replaceAll(replaceAll(e, `"id":"${t.id}"`, `"id":${JSON.stringify(id)}`), `"model":"${t.model}"`, `"model":${JSON.stringify(model)}`);
    if (toolName !== undefined && t.toolName !== undefined) out = replaceAll(out, `"name":${JSON.stringify(t.toolName)}`, `"name":${JSON.stringify(toolName)}`);
    return Buffer.from(out);
  });
}

function renameCall(response: ResponseFixture, toolName: string | undefined): ResponseFixture {
  if (toolName === undefined) return response;
  return { ...response, output: response.output.map((item) => (item.type === 'function_call' ? { ...item, name: toolName } : item)) };
}

/** `response` answering with `text` as its one message's output_text, its output tokens one per piece. */
function withText(response: ResponseFixture, text: string, outputTokens: number): ResponseFixture {
  const output = response.output.map((item) =>
    item.type === 'message' ? { ...item, content: [{ type: 'output_text', annotations: [], logprobs: [], text }] } : item,
  );
  const usage = response.usage as { input_tokens: number; output_tokens: number; total_tokens: number };
  return { ...response, output, usage: { ...usage, output_tokens: outputTokens, total_tokens: usage.input_tokens + outputTokens } };
}

/**
 * A text stream in the recorded frame with `pieces` as its deltas: the recorded head events, one
 * output_text.delta per piece, the closing events carrying the whole text, numbered afresh.
 */
function textResponseStream(pieces: readonly string[], id: string, model: string): { events: Buffer[]; completed: ResponseFixture } {
  const recorded = RESPONSE_TEXT_STREAM.events.map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 'data: '.length)) as Record<string, unknown>);
  const firstDelta = recorded.findIndex((d) => d.type === 'response.output_text.delta');
  const deltaTemplate: Record<string, unknown> = recorded[firstDelta] ?? { type: 'response.output_text.delta' };
  const byType = (type: string): Record<string, unknown> => recorded.find((d) => d.type === type) ?? { type };
  const text = pieces.join('');
  const completed = withText({ ...RESPONSE_TEXT_STREAM.completed, id, model }, text, pieces.length);
  const message = completed.output.find((item) => item.type === 'message');
  const part = { type: 'output_text', annotations: [], logprobs: [], text };
  const events: Array<Record<string, unknown>> = [
    ...recorded.slice(0, firstDelta).map((d) => (isRecord(d.response) ? { ...d, response: { ...d.response, id, model } } : d)),
    ...pieces.map((delta) => ({ ...deltaTemplate, delta, logprobs: [], obfuscation: undefined })),
    { ...byType('response.output_text.done'), text, logprobs: [] },
    { ...byType('response.content_part.done'), part },
    { ...byType('response.output_item.done'), item: message },
    { ...byType('response.completed'), response: completed },
  ];
  return {
    events: events.map((d, i) => Buffer.from(`event: ${String(d.type)}\ndata: ${JSON.stringify({ ...d, sequence_number: i })}\n\n`)),
    completed,
  };
}

/** The text of the function call output a Responses request ends with, if it ends with one. */
function functionCallOutputText(body: Record<string, unknown>): string | undefined {
  const input = body.input;
  const last: unknown = Array.isArray(input) ? input[input.length - 1] : undefined;
  if (!isRecord(last) || last.type !== 'function_call_output') return undefined;
  if (typeof last.output === 'string') return last.output;
  return Array.isArray(last.output) ? last.output.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('') : '';
}

/** The first function tool's name in a Responses request (tools are `{type:'function', name, …}`). */
function responsesToolName(body: Record<string, unknown>): string | undefined {
  if (!Array.isArray(body.tools) || body.tool_choice === 'none') return undefined;
  for (const t of body.tools as unknown[]) if (isRecord(t) && t.type === 'function' && typeof t.name === 'string') return t.name;
  return undefined;
}

const responseNotFound = (id: string): string => errorBody(`Response with id '${id}' not found.`, 'invalid_request_error', null, null);

function handleResponses(
  ex: Exchange,
  method: string,
  body: Record<string, unknown> | undefined,
  stored: Map<string, ResponseFixture>,
  nextId: () => string,
): void {
  const { res, pathname } = ex;
  if (pathname !== '/v1/responses') {
    const id = decodeURIComponent(pathname.slice('/v1/responses/'.length));
    const found = stored.get(id);
    if ((method !== 'GET' && method !== 'DELETE') || id.includes('/')) {
      sendBody(res, 404, JSON_CT, errorBody(`Invalid URL (${method} ${pathname})`, 'invalid_request_error', null, null));
    } else if (!found) {
      sendBody(res, 404, JSON_CT, responseNotFound(id));
    } else if (method === 'GET') {
      sendBody(res, 200, JSON_CT, JSON.stringify(found));
    } else {
      stored.delete(id);
      sendBody(res, 200, JSON_CT, JSON.stringify({ ...RESPONSE_DELETED, id }));
    }
    return;
  }
  if (method !== 'POST') {
    sendBody(res, 404, JSON_CT, errorBody(`Invalid URL (${method} ${pathname})`, 'invalid_request_error', null, null));
    return;
  }
  if (ex.invalidJson || !body) {
    sendBody(res, 400, JSON_CT, errorBody(INVALID_JSON_MESSAGE, 'invalid_request_error', null, null));
    return;
  }
  if (typeof body.model !== 'string' || body.model === '') {
    sendBody(res, 400, JSON_CT, errorBody("Missing required parameter: 'model'.", 'invalid_request_error', 'model', 'missing_required_parameter'));
    return;
  }

  const previous = body.previous_response_id;
  if (typeof previous === 'string' && !stored.has(previous)) {
    const message = `Previous response with id '${previous}' not found.`;
    sendBody(res, 400, JSON_CT, errorBody(message, 'invalid_request_error', 'previous_response_id', 'previous_response_not_found'));
    return;
  }

  const model = body.model;
  const id = nextId();
  // A function call's output is answered by quoting it, as the chat route does.
  const toolOutput = functionCallOutputText(body);
  const quoted = toolOutput === undefined ? undefined : textPieces(`The tool said: ${toolOutput}`);
  const toolName = toolOutput !== undefined ? undefined : responsesToolName(body);
  const keep = (response: ResponseFixture): void => {
    if (body.store === false) return;
    stored.set(id, response);
    // Bounded like the request log: the oldest stored response goes first.
    if (stored.size > MAX_RECORDED_REQUESTS) stored.delete(stored.keys().next().value as string);
  };

  if (body.stream !== true) {
    const response =
      quoted !== undefined
        ? withText({ ...RESPONSE_TEXT, id, model }, quoted.join(''), quoted.length)
        : toolName !== undefined
          ? renameCall({ ...RESPONSE_TOOL, id, model }, toolName)
          : { ...RESPONSE_TEXT, id, model };
    keep(response);
    sendBody(res, 200, JSON_CT, JSON.stringify(response));
    return;
  }
  const b = ex.behaviour;
  const pieces = b?.streamChunks !== undefined ? Array.from({ length: Math.max(0, Math.floor(b.streamChunks)) }, (_, i) => `tok${i} `) : quoted;
  let events: Buffer[];
  if (pieces !== undefined) {
    const synthetic = textResponseStream(pieces, id, model);
    keep(synthetic.completed);
    events = synthetic.events;
  } else {
    const template = toolName !== undefined ? RESPONSE_TOOL_STREAM : RESPONSE_TEXT_STREAM;
    keep(renameCall({ ...template.completed, id, model }, toolName));
    events = replayStream(template, id, model, toolName);
  }
  writeStream(ex, 200, SSE_HEADERS, events, b?.failAfterChunks !== undefined ? { after: b.failAfterChunks, finish: () => ex.destroyConnection() } : undefined);
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

export function startOpenAIUpstream(opts?: { apiKey?: string }): Promise<FakeUpstream> {
  const expected = `Bearer ${opts?.apiKey ?? 'sk-test'}`;
  let seq = 0;
  let responseSeq = 0;
  /** Responses created with `store` left on, by id (GET and DELETE /v1/responses/{id}). */
  const storedResponses = new Map<string, ResponseFixture>();

  const handler = (ex: Exchange): void => {
    const { req, res, pathname, behaviour: b } = ex;
    res.setHeader('x-request-id', `req_fake${(++seq).toString(16).padStart(8, '0')}`);

    // Authentication first, as the real API does.
    const auth = req.headers.authorization;
    if (auth !== expected) {
      const key = auth?.replace(/^Bearer\s+/i, '').trim() ?? '';
      const message = key
        ? `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`
        : "You didn't provide an API key. You need to provide your API key " +
          'in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), ' +
          "or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. " +
          'You can obtain an API key from https://platform.openai.com/account/api-keys.';
      sendBody(res, 401, JSON_CT, errorBody(message, 'invalid_request_error', null, 'invalid_api_key'));
      return;
    }

    const body = isRecord(ex.recorded.json) ? ex.recorded.json : undefined;

    if (b?.status !== undefined) {
      const err = defaultError(b.status, typeof body?.model === 'string' ? body.model : undefined);
      sendBody(res, b.status, JSON_CT, b.body ?? err.body, b.body === undefined ? err.headers : undefined);
      return;
    }

    const method = req.method ?? 'GET';
    if (pathname === '/v1/responses' || pathname.startsWith('/v1/responses/')) {
      handleResponses(ex, method, body, storedResponses, () => `resp_fake${(++responseSeq).toString(16).padStart(48, '0')}`);
      return;
    }
    if ((method === 'GET' || method === 'HEAD') && pathname === '/v1/models') {
      sendBody(res, 200, JSON_CT, MODELS_BUF);
      return;
    }
    if (method === 'POST' && pathname === '/v1/embeddings' && body) {
      sendBody(res, 200, JSON_CT, embeddingsAnswer(body));
      return;
    }
    if (method !== 'POST' || pathname !== '/v1/chat/completions') {
      sendBody(res, 404, JSON_CT, errorBody(`Invalid URL (${method} ${pathname})`, 'invalid_request_error', null, null));
      return;
    }

    if (ex.invalidJson || !body) {
      sendBody(res, 400, JSON_CT, errorBody(INVALID_JSON_MESSAGE, 'invalid_request_error', null, null));
      return;
    }
    if (typeof body.model !== 'string' || body.model === '') {
      sendBody(res, 400, JSON_CT, errorBody('you must provide a model parameter', 'invalid_request_error', null, null));
      return;
    }
    if (!Array.isArray(body.messages)) {
      sendBody(res, 400, JSON_CT, errorBody("Missing required parameter: 'messages'.", 'invalid_request_error', 'messages', 'missing_required_parameter'));
      return;
    }

    const last = lastMessage(body);
    const toolResult = last?.role === 'tool';
    const toolsPresent = Array.isArray(body.tools) && body.tools.length > 0 && body.tool_choice !== 'none';
    const toolName = firstToolName(body) ?? TOOL_FIXTURE_NAME;

    if (body.stream !== true) {
      if (toolResult) sendBody(res, 200, JSON_CT, textCompletion(`The tool said: ${messageText(last)}`));
      else if (toolsPresent) sendBody(res, 200, JSON_CT, toolCallCompletion(toolName));
      else sendBody(res, 200, JSON_CT, CHAT_BUF);
      return;
    }

    const so = body.stream_options;
    const includeUsage = isRecord(so) && so.include_usage === true;
    // A tool result is answered by quoting it, streamed as it is answered whole.
    const set =
      b?.streamChunks !== undefined
        ? syntheticSse(Math.max(0, Math.floor(b.streamChunks)))
        : toolResult
          ? textSse(textPieces(`The tool said: ${messageText(last)}`))
          : toolsPresent
            ? toolSse(toolName)
            : TEXT_SSE;
    const events = includeUsage ? set.withUsage : set.withoutUsage;
    writeStream(
      ex,
      200,
      SSE_HEADERS,
      events,
      b?.failAfterChunks !== undefined ? { after: b.failAfterChunks, finish: () => ex.destroyConnection() } : undefined,
    );
  };

  return startFakeServer(handler, '/v1');
}
