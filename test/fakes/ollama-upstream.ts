/**
 * Fake Ollama upstream speaking the native API (/api/chat NDJSON streaming, /api/tags, ...),
 * built from the documented examples in test/fixtures/ollama/. Response bytes are prepared at
 * module load, or once per (model, tool name) and cached.
 */
import { STATUS_CODES } from 'node:http';
import {
  firstToolName,
  isRecord,
  lastMessage,
  memo,
  messageText,
  parseNdjson,
  readFixture,
  readFixtureJson,
  sendBody,
  startFakeServer,
  textPieces,
  writeStream,
  type Exchange,
  type FakeUpstream,
} from './fixtures';

export type { Behaviour, FakeUpstream, RecordedRequest } from './fixtures';

// ---------------------------------------------------------------------------------------------
// Fixture-derived data
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
interface ChatObject extends Obj {
  model: string;
  created_at: string;
  message: Obj;
  done: boolean;
}

const JSON_CT = 'application/json; charset=utf-8';
const TEXT_CT = 'text/plain; charset=utf-8';
const NDJSON_HEADERS: Record<string, string> = { 'content-type': 'application/x-ndjson' };

const TAGS_RAW = readFixture('ollama/tags.response.json');
const TAGS_BUF = Buffer.from(TAGS_RAW);
const ACCEPTED_MODELS = new Set<string>();
for (const m of (JSON.parse(TAGS_RAW) as { models: Array<{ name: string }> }).models) {
  ACCEPTED_MODELS.add(m.name);
  if (m.name.endsWith(':latest')) ACCEPTED_MODELS.add(m.name.slice(0, -':latest'.length));
}
const VERSION_BUF = Buffer.from('{"version":"0.12.0"}');
const RUNNING_BUF = Buffer.from('Ollama is running');
const NOT_FOUND_BUF = Buffer.from('404 page not found');

const CHAT_NONSTREAM = readFixtureJson<ChatObject>('ollama/chat-nonstream.response.json');
const TOOLS_NONSTREAM = readFixtureJson<ChatObject>('ollama/chat-tools-nonstream.response.json');
const STREAM_DOC = parseNdjson<ChatObject>(readFixture('ollama/chat-stream.ndjson'));
const TOOLS_STREAM = parseNdjson<ChatObject>(readFixture('ollama/chat-tools-stream.ndjson'));
const STREAM_PART = STREAM_DOC.find((o) => !o.done)!;
const STREAM_FINAL = STREAM_DOC.find((o) => o.done)!;
const TOOLS_STREAM_PARTS = TOOLS_STREAM.filter((o) => !o.done);
const TOOLS_STREAM_FINAL = TOOLS_STREAM.find((o) => o.done)!;
const ERROR_LINE = `${readFixture('ollama/stream-midstream-error.ndjson')
  .split('\n')
  .find((l) => l.includes('"error"'))!
  .trim()}\n`;
const GENERIC_500_MESSAGE = readFixtureJson<{ error: string }>('ollama/error.response.json').error;

/** The text streamed by default (the doc shows only "The"; this continues it realistically). */
const STREAM_TEXT_PIECES = ['The', ' sky', ' is', ' blue', '.'];

/** Real servers always send done_reason on the final object; the older doc examples omit it. */
function withDoneReason(o: Obj): Obj {
  if ('done_reason' in o) return o;
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'done') out.done_reason = 'stop';
    out[k] = v;
  }
  return out;
}

function withToolName(msg: Obj, name: string): Obj {
  const calls = Array.isArray(msg.tool_calls) ? (msg.tool_calls as unknown[]) : [];
  return {
    ...msg,
    tool_calls: calls.map((c) => (isRecord(c) && isRecord(c.function) ? { ...c, function: { ...c.function, name } } : c)),
  };
}

const line = (o: unknown): string => `${JSON.stringify(o)}\n`;

function contentLinePrefix(model: string): string {
  // {"model":..,"created_at":..,"message":{"role":"assistant","content": <text> },"done":false}
  return `{"model":${JSON.stringify(model)},"created_at":${JSON.stringify(STREAM_PART.created_at)},"message":{"role":"assistant","content":`;
}
const CONTENT_LINE_SUFFIX = '},"done":false}\n';

function finalLine(model: string, evalCount?: number): string {
  const o: Obj = { ...withDoneReason(STREAM_FINAL), model };
  if (evalCount !== undefined) o.eval_count = evalCount;
  return line(o);
}

function textLines(model: string, pieces: readonly string[], evalCount?: number): Buffer[] {
  const prefix = contentLinePrefix(model);
  const out = pieces.map((p) => Buffer.from(`${prefix}${JSON.stringify(p)}${CONTENT_LINE_SUFFIX}`));
  out.push(Buffer.from(finalLine(model, evalCount)));
  return out;
}

interface Prepared {
  lines: Buffer[];
}
const cache = new Map<string, Prepared | Buffer>();

const streamText = (model: string): Buffer[] => (memo(cache, `st\0${model}`, () => ({ lines: textLines(model, STREAM_TEXT_PIECES) })) as Prepared).lines;

const streamSynthetic = (model: string, n: number): Buffer[] =>
  (
    memo(cache, `sn\0${model}\0${n}`, () => ({
      lines: textLines(
        model,
        Array.from({ length: n }, (_, i) => `tok${i} `),
        n,
      ),
    })) as Prepared
  ).lines;

const streamTools = (model: string, name: string): Buffer[] =>
  (
    memo(cache, `tt\0${model}\0${name}`, () => ({
      lines: [
        ...TOOLS_STREAM_PARTS.map((o) => Buffer.from(line({ ...o, model, message: withToolName(o.message, name) }))),
        Buffer.from(line({ ...withDoneReason(TOOLS_STREAM_FINAL), model })),
      ],
    })) as Prepared
  ).lines;

const nonstreamText = (model: string): Buffer =>
  memo(cache, `nt\0${model}`, () => Buffer.from(JSON.stringify({ ...withDoneReason(CHAT_NONSTREAM), model }))) as Buffer;

const nonstreamTools = (model: string, name: string): Buffer =>
  memo(cache, `nx\0${model}\0${name}`, () =>
    Buffer.from(JSON.stringify({ ...withDoneReason(TOOLS_NONSTREAM), model, message: withToolName(TOOLS_NONSTREAM.message, name) })),
  ) as Buffer;

function nonstreamToolResult(model: string, text: string): string {
  return JSON.stringify({ ...withDoneReason(CHAT_NONSTREAM), model, message: { ...CHAT_NONSTREAM.message, content: text } });
}

// ---------------------------------------------------------------------------------------------
// Errors ({"error":"..."})
// ---------------------------------------------------------------------------------------------

const errorJson = (message: string): string => JSON.stringify({ error: message });

function defaultErrorMessage(status: number, model: string | undefined): string {
  if (status === 404) return `model ${JSON.stringify(model ?? 'unknown')} not found, try pulling it first`;
  if (status === 500) return GENERIC_500_MESSAGE;
  return (STATUS_CODES[status] ?? `status ${status}`).toLowerCase();
}

/** A Go encoding/json-like complaint for a body that is not JSON. */
function invalidJsonMessage(body: string): string {
  const c = body.trimStart()[0];
  if (c !== undefined && !'{["-0123456789tfn'.includes(c)) return `invalid character '${c}' looking for beginning of value`;
  return 'unexpected EOF';
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

export function startOllamaUpstream(): Promise<FakeUpstream> {
  const handler = (ex: Exchange): void => {
    const { req, res, pathname, behaviour: b } = ex;
    const body = isRecord(ex.recorded.json) ? ex.recorded.json : undefined;

    if (b?.status !== undefined) {
      sendBody(res, b.status, JSON_CT, b.body ?? errorJson(defaultErrorMessage(b.status, typeof body?.model === 'string' ? body.model : undefined)));
      return;
    }

    const method = req.method ?? 'GET';
    const isGet = method === 'GET' || method === 'HEAD';
    if (isGet && pathname === '/') return sendBody(res, 200, TEXT_CT, RUNNING_BUF);
    if (isGet && pathname === '/api/tags') return sendBody(res, 200, JSON_CT, TAGS_BUF);
    if (isGet && pathname === '/api/version') return sendBody(res, 200, JSON_CT, VERSION_BUF);
    if (method === 'POST' && pathname === '/api/embed' && body) {
      // docs/api.md "Generate Embeddings": one vector per input, prompt_eval_count for the tokens.
      const model = String(body.model ?? '');
      if (!ACCEPTED_MODELS.has(model)) return sendBody(res, 404, JSON_CT, errorJson(defaultErrorMessage(404, model)));
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return sendBody(
        res,
        200,
        JSON_CT,
        JSON.stringify({
          model,
          embeddings: inputs.map(() => [0.010071029, -0.0017594862, 0.05007221]),
          total_duration: 14143917,
          load_duration: 1019500,
          prompt_eval_count: 8 * inputs.length,
        }),
      );
    }
    if (method !== 'POST' || pathname !== '/api/chat') return sendBody(res, 404, TEXT_CT, NOT_FOUND_BUF);

    if (ex.recorded.body.trim() === '') return sendBody(res, 400, JSON_CT, errorJson('missing request body'));
    if (ex.invalidJson) return sendBody(res, 400, JSON_CT, errorJson(invalidJsonMessage(ex.recorded.body)));
    if (!body) return sendBody(res, 400, JSON_CT, errorJson('json: cannot unmarshal into Go value of type api.ChatRequest'));
    const model = body.model;
    if (typeof model !== 'string' || model === '') return sendBody(res, 400, JSON_CT, errorJson('model is required'));
    if (!ACCEPTED_MODELS.has(model)) return sendBody(res, 404, JSON_CT, errorJson(defaultErrorMessage(404, model)));

    const last = lastMessage(body);
    const toolResult = last?.role === 'tool';
    const toolsPresent = Array.isArray(body.tools) && body.tools.length > 0;
    const toolName = firstToolName(body) ?? 'get_weather';
    const toolText = toolResult ? `The tool said: ${messageText(last)}` : '';

    // Real Ollama streams unless the request says "stream": false.
    if (body.stream === false) {
      if (toolResult) return sendBody(res, 200, JSON_CT, nonstreamToolResult(model, toolText));
      if (toolsPresent) return sendBody(res, 200, JSON_CT, nonstreamTools(model, toolName));
      return sendBody(res, 200, JSON_CT, nonstreamText(model));
    }

    let lines: readonly Buffer[];
    if (b?.streamChunks !== undefined) lines = streamSynthetic(model, Math.max(0, Math.floor(b.streamChunks)));
    else if (toolResult) lines = textLines(model, textPieces(toolText));
    else if (toolsPresent) lines = streamTools(model, toolName);
    else lines = streamText(model);

    if (b?.failAfterChunks !== undefined) {
      // N content lines, then the error line in place of the final object; status stays 200.
      const content = lines.slice(0, -1);
      writeStream(ex, 200, NDJSON_HEADERS, content, { after: b.failAfterChunks, finish: () => res.end(ERROR_LINE) });
      return;
    }
    writeStream(ex, 200, NDJSON_HEADERS, lines);
  };

  return startFakeServer(handler, '');
}
