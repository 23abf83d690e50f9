/**
 * Fake Anthropic Messages API upstream speaking the real wire format, built from the recorded
 * fixtures in test/fixtures/anthropic/ (see SOURCES.md). All response bytes are prepared at
 * module load; streams replay the recorded SSE bodies one event per write.
 */
import {
  isRecord,
  memo,
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

interface MessageFixture {
  content: Array<Record<string, unknown>>;
  [k: string]: unknown;
}
interface RecordedError {
  status: number;
  headers: Record<string, string>;
  body: { type: 'error'; error: { type: string; message: string }; request_id?: string };
}
interface ErrorsFixture {
  status_to_type: Array<{ status: number; type: string }>;
  stream_error_event_sse: string;
}

const JSON_CT = 'application/json';
const SSE_HEADERS: Record<string, string> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

const TEXT_RAW = readFixture('anthropic/messages-nonstream.response.json');
const TEXT_BUF = Buffer.from(JSON.stringify(JSON.parse(TEXT_RAW)));
const TEXT = JSON.parse(TEXT_RAW) as MessageFixture;
const TOOLS = readFixtureJson<MessageFixture>('anthropic/tools-nonstream.response.json');
const TOOL_FIXTURE_NAME = (() => {
  const block = TOOLS.content.find((b) => b.type === 'tool_use');
  if (typeof block?.name !== 'string') throw new Error('anthropic fixture: no tool_use block in tools-nonstream.response.json');
  return block.name;
})();

const ERRORS = readFixtureJson<ErrorsFixture>('anthropic/errors.json');
const ERROR_400 = readFixtureJson<RecordedError>('anthropic/error-400.recorded.json');
const ERROR_429 = readFixtureJson<RecordedError>('anthropic/error-429.recorded.json');
/** The mid-stream error event, byte for byte as the SDK's test feeds it (errors.json). */
const STREAM_ERROR_EVENT = Buffer.from(ERRORS.stream_error_event_sse);

// Text stream (recorded): message_start, content_block_start, ping, text deltas, stop, message_delta, message_stop.
const TEXT_EVENTS = splitSse(readFixture('anthropic/messages-stream.sse.txt'));
const TEXT_SSE = TEXT_EVENTS.map((e) => Buffer.from(e));

// Tool stream (recorded): the tool_use content_block_start names the tool; the fake renames it.
const TOOL_EVENTS = splitSse(readFixture('anthropic/tools-stream.sse.txt'));
const TOOL_NAME_INDEX = TOOL_EVENTS.findIndex((e) => e.includes('"type":"tool_use"'));
const TOOL_STREAM_NAME = (() => {
  const m = /"name":("(?:[^"\\]|\\.)*")/.exec(TOOL_EVENTS[TOOL_NAME_INDEX] ?? '');
  if (!m?.[1]) throw new Error('anthropic fixture: no tool_use block in tools-stream.sse.txt');
  return JSON.parse(m[1]) as string;
})();
const TOOL_SSE_CACHE = new Map<string, Buffer[]>();
function toolSse(name: string): Buffer[] {
  return memo(TOOL_SSE_CACHE, name, () =>
    TOOL_EVENTS.map((e, i) =>
      Buffer.from(i === TOOL_NAME_INDEX ? e.replace(`"name":${JSON.stringify(TOOL_STREAM_NAME)}`, `"name":${JSON.stringify(name)}`) : e),
    ),
  );
}

/** `event: <type>\ndata: <json>\n\n`, as Anthropic frames every event. */
const toEvent = (o: { type: string; [k: string]: unknown }): string => `event: ${o.type}\ndata: ${JSON.stringify(o)}\n\n`;

// Synthetic streams (Behaviour.streamChunks): the recorded message_start / stop events around N text deltas.
const isEvent =
  (type: string) =>
  (e: string): boolean =>
    e.startsWith(`event: ${type}\n`);
const SYNTH_HEAD = TEXT_EVENTS.filter((e) => isEvent('message_start')(e) || isEvent('content_block_start')(e));
const SYNTH_BLOCK_STOP = TEXT_EVENTS.find(isEvent('content_block_stop'));
const SYNTH_STOP = TEXT_EVENTS.find(isEvent('message_stop'));
/** A text stream in the recorded frame: the recorded head, one text delta per piece, the stop events. */
function textSse(pieces: readonly string[]): Buffer[] {
  if (!SYNTH_BLOCK_STOP || !SYNTH_STOP) throw new Error('anthropic fixture: messages-stream.sse.txt lacks stop events');
  const events = [...SYNTH_HEAD];
  for (const text of pieces) events.push(toEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }));
  events.push(SYNTH_BLOCK_STOP);
  events.push(toEvent({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: pieces.length } }));
  events.push(SYNTH_STOP);
  return events.map((e) => Buffer.from(e));
}

const SYNTH_CACHE = new Map<string, Buffer[]>();
function syntheticSse(n: number): Buffer[] {
  return memo(SYNTH_CACHE, String(n), () => textSse(Array.from({ length: n }, (_, i) => `tok${i} `)));
}

const TOOL_NONSTREAM_CACHE = new Map<string, Buffer>();
function toolUseMessage(name: string): Buffer {
  return memo(TOOL_NONSTREAM_CACHE, name, () =>
    Buffer.from(JSON.stringify({ ...TOOLS, content: TOOLS.content.map((b) => (b.type === 'tool_use' ? { ...b, name } : b)) })),
  );
}

function textMessage(text: string): string {
  return JSON.stringify({ ...TEXT, content: [{ type: 'text', text }] });
}

// count_tokens (fixtures/anthropic/count-tokens.json): the documented exchange is answered with
// the documented count; any other request with a count of its own (ASSEMBLED: the words in every
// string of its messages, system and tools, which is no tokenizer but is deterministic and
// differs from the gateway's bytes/4 estimate).
interface CountTokensFixture {
  request: unknown;
  response: { input_tokens: number };
}
const COUNT_TOKENS = readFixtureJson<CountTokensFixture>('anthropic/count-tokens.json');
const COUNT_TOKENS_REQUEST = JSON.stringify(COUNT_TOKENS.request);

function wordCount(value: unknown): number {
  if (typeof value === 'string') return value.split(/\s+/).filter((w) => w !== '').length;
  if (Array.isArray(value)) return value.reduce((n: number, v: unknown) => n + wordCount(v), 0);
  if (isRecord(value)) return Object.values(value).reduce((n: number, v: unknown) => n + wordCount(v), 0);
  return 0;
}

function countTokens(body: Record<string, unknown>): string {
  if (JSON.stringify(body) === COUNT_TOKENS_REQUEST) return JSON.stringify(COUNT_TOKENS.response);
  return JSON.stringify({ input_tokens: wordCount(body.messages) + wordCount(body.system) + wordCount(body.tools) });
}

/** GET /v1/models: a short list in the documented shape (ASSEMBLED; ids from the recordings). */
const MODELS_BUF = Buffer.from(
  JSON.stringify({
    data: [
      { type: 'model', id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5', created_at: '2025-10-01T00:00:00Z' },
      { type: 'model', id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' },
    ],
    has_more: false,
    first_id: 'claude-haiku-4-5-20251001',
    last_id: 'claude-sonnet-4-5-20250929',
  }),
);

// ---------------------------------------------------------------------------------------------
// Errors (shape and status → type: fixtures/anthropic/errors.json)
// ---------------------------------------------------------------------------------------------

const TYPE_OF_STATUS = new Map(ERRORS.status_to_type.map((r) => [r.status, r.type]));

/**
 * Default messages per status. 400 and 429 are the recorded bodies; 529's "Overloaded" is the
 * SDK tests' text; the others are ASSEMBLED (the doc gives only the type).
 */
const DEFAULT_MESSAGES: Record<number, string> = {
  401: 'invalid x-api-key',
  403: 'Your API key does not have permission to use the specified resource.',
  404: 'Not found',
  413: 'Request exceeds the maximum allowed number of bytes.',
  500: 'Internal server error',
  529: 'Overloaded',
};

function errorBody(type: string, message: string, requestId: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId });
}

function statusError(status: number, requestId: string): { body: string; headers: Record<string, string> } {
  const retry = { 'x-should-retry': status === 429 || status >= 500 ? 'true' : 'false' };
  if (status === 400) return { body: JSON.stringify({ ...ERROR_400.body, request_id: requestId }), headers: retry };
  if (status === 429) return { body: JSON.stringify({ ...ERROR_429.body, request_id: requestId }), headers: retry };
  const type = TYPE_OF_STATUS.get(status) ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { body: errorBody(type, DEFAULT_MESSAGES[status] ?? `HTTP ${status}`, requestId), headers: retry };
}

// ---------------------------------------------------------------------------------------------
// Request inspection (bodies are untrusted JSON)
// ---------------------------------------------------------------------------------------------

function blocksOf(message: unknown): Array<Record<string, unknown>> {
  if (!isRecord(message) || !Array.isArray(message.content)) return [];
  return message.content.filter(isRecord);
}

function resultText(block: Record<string, unknown>): string {
  const c = block.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p: unknown) => (isRecord(p) && typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

/**
 * Anthropic's own check that every tool_result answers a tool_use of the turn before it. The API
 * first combines consecutive same-role messages into one turn and numbers blocks within it (the
 * recorded 400 says `messages.0.content.1` for [user "text", user [tool_result]]); the fake does
 * the same and returns the recorded message (error-400.recorded.json) for the first mismatch.
 */
function unpairedToolResult(messages: unknown[]): string | undefined {
  const turns: Array<{ role: unknown; blocks: Array<Record<string, unknown>> }> = [];
  for (const m of messages) {
    const role = isRecord(m) ? m.role : undefined;
    const blocks = isRecord(m) && typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : blocksOf(m);
    const prev = turns[turns.length - 1];
    if (prev && prev.role === role) prev.blocks.push(...blocks);
    else turns.push({ role, blocks });
  }
  let prevIds = new Set<string>();
  for (let k = 0; k < turns.length; k++) {
    const ids = new Set<string>();
    const blocks = turns[k]!.blocks;
    for (let j = 0; j < blocks.length; j++) {
      const b = blocks[j]!;
      if (b.type === 'tool_use' && typeof b.id === 'string') ids.add(b.id);
      if (b.type === 'tool_result' && !(typeof b.tool_use_id === 'string' && prevIds.has(b.tool_use_id))) {
        return (
          `messages.${k}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(b.tool_use_id)}. ` +
          `Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`
        );
      }
    }
    prevIds = ids;
  }
  return undefined;
}

function firstToolName(body: Record<string, unknown>): string | undefined {
  const t: unknown = Array.isArray(body.tools) ? body.tools[0] : undefined;
  return isRecord(t) && typeof t.name === 'string' ? t.name : undefined;
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

export function startAnthropicUpstream(opts?: { apiKey?: string }): Promise<FakeUpstream> {
  const expectedKey = opts?.apiKey ?? 'sk-ant-test';
  let seq = 0;

  const handler = (ex: Exchange): void => {
    const { req, res, pathname, behaviour: b } = ex;
    const requestId = `req_fake${(++seq).toString(16).padStart(16, '0')}`;
    res.setHeader('request-id', requestId);
    const fail = (status: number, type: string, message: string): void => sendBody(res, status, JSON_CT, errorBody(type, message, requestId));

    // Authentication first, as the real API does; the key is never echoed.
    if (req.headers['x-api-key'] !== expectedKey) {
      fail(401, 'authentication_error', 'invalid x-api-key');
      return;
    }
    if (req.headers['anthropic-version'] === undefined) {
      fail(400, 'invalid_request_error', 'anthropic-version: header is required');
      return;
    }

    if (b?.status !== undefined) {
      const err = statusError(b.status, requestId);
      sendBody(res, b.status, JSON_CT, b.body ?? err.body, b.body === undefined ? err.headers : undefined);
      return;
    }

    const method = req.method ?? 'GET';
    if ((method === 'GET' || method === 'HEAD') && pathname === '/v1/models') {
      sendBody(res, 200, JSON_CT, MODELS_BUF);
      return;
    }
    const counting = pathname === '/v1/messages/count_tokens';
    if (method !== 'POST' || (pathname !== '/v1/messages' && !counting)) {
      fail(404, 'not_found_error', 'Not found');
      return;
    }

    const body = isRecord(ex.recorded.json) ? ex.recorded.json : undefined;
    if (ex.invalidJson || !body) {
      fail(400, 'invalid_request_error', 'There was an issue with your request body: it is not valid JSON.');
      return;
    }
    if (counting) {
      // A count takes a Messages request without max_tokens.
      if (body.model === undefined || body.messages === undefined) {
        fail(400, 'invalid_request_error', `${body.model === undefined ? 'model' : 'messages'}: Field required`);
      } else if (typeof body.model !== 'string' || !body.model.startsWith('claude-')) {
        fail(404, 'not_found_error', `model: ${String(body.model)}`);
      } else {
        sendBody(res, 200, JSON_CT, countTokens(body));
      }
      return;
    }
    for (const field of ['model', 'max_tokens', 'messages'] as const) {
      if (body[field] === undefined) {
        fail(400, 'invalid_request_error', `${field}: Field required`);
        return;
      }
    }
    if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
      fail(400, 'invalid_request_error', 'max_tokens: Input should be a valid integer greater than or equal to 1');
      return;
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      fail(400, 'invalid_request_error', 'messages: at least one message is required');
      return;
    }
    if (typeof body.model !== 'string' || !body.model.startsWith('claude-')) {
      fail(404, 'not_found_error', `model: ${String(body.model)}`);
      return;
    }
    const unpaired = unpairedToolResult(body.messages);
    if (unpaired) {
      fail(400, 'invalid_request_error', unpaired);
      return;
    }

    const last: unknown = body.messages[body.messages.length - 1];
    const results = isRecord(last) && last.role === 'user' ? blocksOf(last).filter((x) => x.type === 'tool_result') : [];
    const choice = body.tool_choice;
    const toolsPresent = Array.isArray(body.tools) && body.tools.length > 0 && !(isRecord(choice) && choice.type === 'none');
    const toolName = firstToolName(body) ?? TOOL_FIXTURE_NAME;

    if (body.stream !== true) {
      if (results.length > 0) sendBody(res, 200, JSON_CT, textMessage(`The tool said: ${results.map(resultText).join('\n')}`));
      else if (toolsPresent) sendBody(res, 200, JSON_CT, toolUseMessage(toolName));
      else sendBody(res, 200, JSON_CT, TEXT_BUF);
      return;
    }

    const events =
      b?.streamChunks !== undefined
        ? syntheticSse(Math.max(0, Math.floor(b.streamChunks)))
        : results.length > 0
          ? textSse(textPieces(`The tool said: ${results.map(resultText).join('\n')}`))
          : toolsPresent
            ? toolSse(toolName)
            : TEXT_SSE;
    // Mid-stream failure as Anthropic does it: an `error` event after the 200 head, then the end.
    writeStream(
      ex,
      200,
      SSE_HEADERS,
      events,
      b?.failAfterChunks !== undefined ? { after: b.failAfterChunks, finish: () => res.end(STREAM_ERROR_EVENT) } : undefined,
    );
  };

  return startFakeServer(handler, '');
}
