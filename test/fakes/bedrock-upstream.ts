/**
 * Fake AWS Bedrock Runtime speaking the real wire formats, built from test/fixtures/bedrock/:
 * restJson1 Converse (`POST /model/{id}/converse`), ConverseStream answered with binary
 * `application/vnd.amazon.eventstream` frames (`POST /model/{id}/converse-stream`), and
 * InvokeModel for Titan / Cohere embeddings (`POST /model/{id}/invoke`).
 *
 * Every request must be SigV4-signed for FAKE_AWS: the signature is recomputed with
 * @smithy/signature-v4 and a bad or missing one gets AWS's 403 (X-Amzn-Errortype + {message}).
 *
 * Behaviour: `status` → that status's Bedrock exception (fixtures errors.json); `failAfterChunks`
 * → an exception frame after N event frames (throttlingException when `status` is 429, else
 * modelStreamErrorException); `streamChunks` → N text deltas "tok0 ", "tok1 ", ...
 */
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, randomUUID, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isRecord, memo, readFixture, readFixtureJson, sendBody, startFakeServer, writeStream, type Exchange, type FakeUpstream } from './fixtures';

export type { Behaviour, FakeUpstream, RecordedRequest } from './fixtures';

/** The only identity the fake accepts (never a real key). */
export const FAKE_AWS = { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret', region: 'us-east-1' } as const;

/** The environment that points the real SDK at a fake: endpoint override, region, credentials. */
export function fakeAwsEnv(url: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: url,
    AWS_REGION: FAKE_AWS.region,
    AWS_ACCESS_KEY_ID: FAKE_AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_AWS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

export interface SignatureCheck {
  path: string;
  ok: boolean;
  /** The AWS error the request got when the check failed. */
  error?: string;
}

export interface BedrockUpstream extends FakeUpstream {
  region: string;
  /** One entry per request, in order: was it signed correctly? */
  signatureChecks: SignatureCheck[];
}

// ---------------------------------------------------------------------------------------------
// Fixture-derived data (module load only)
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
interface StreamEventFixture {
  ':event-type': string;
  payload: Obj;
}
interface ConverseFixture extends Obj {
  output: { message: { role: string; content: Obj[] } };
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
  metrics: { latencyMs: number };
}

const JSON_CT = 'application/json';
const CONVERSE_RAW = readFixture('bedrock/converse.response.json').trim();
const CONVERSE = JSON.parse(CONVERSE_RAW) as ConverseFixture;
const TOOLS_PARTIAL = readFixtureJson<Obj & { output: { message: { content: Array<{ toolUse: Obj }> } } }>('bedrock/converse-tools.response.partial.json');
const STREAMS = readFixtureJson<{
  example_text_stream: StreamEventFixture[];
  example_tool_stream: StreamEventFixture[];
  example_exception_frame: { payload: { message: string } };
}>('bedrock/converse-stream.events.json');
const ERRORS = readFixtureJson<{
  exceptions: Record<string, { http: number; doc: string }>;
  examples_assembled: Array<{ headers: Record<string, string> }>;
}>('bedrock/errors.json');

/** The exception a status stands for: the first one errors.json lists with that status. */
const EXCEPTION_OF_STATUS = new Map<number, string>();
for (const [name, e] of Object.entries(ERRORS.exceptions)) if (!EXCEPTION_OF_STATUS.has(e.http)) EXCEPTION_OF_STATUS.set(e.http, name);
/** X-Amzn-Errortype values as the fixture shows them (some with the legacy ':namespace' suffix the SDK must strip). */
const ERROR_TYPE_HEADER = new Map<string, string>();
for (const ex of ERRORS.examples_assembled) {
  const v = ex.headers['x-amzn-errortype'];
  if (v) ERROR_TYPE_HEADER.set(v.split(':')[0] ?? v, v);
}

// The tool answer fixture is the doc's partial body (no usage/metrics); the text answer's numbers
// stand in for them so the gateway has something to price.
const USAGE = CONVERSE.usage;
const METRICS = CONVERSE.metrics;

function textAnswer(text: string): string {
  return JSON.stringify({ ...CONVERSE, output: { message: { ...CONVERSE.output.message, content: [{ text }] } } });
}

const TOOL_ANSWERS = new Map<string, string>();
function toolAnswer(name: string): string {
  return memo(TOOL_ANSWERS, name, () =>
    JSON.stringify({
      ...TOOLS_PARTIAL,
      output: { message: { ...TOOLS_PARTIAL.output.message, content: TOOLS_PARTIAL.output.message.content.map((b) => ({ toolUse: { ...b.toolUse, name } })) } },
      usage: USAGE,
      metrics: METRICS,
    }),
  );
}

// ---- event-stream frames --------------------------------------------------------------------

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => new Uint8Array(Buffer.from(text, 'utf8')),
);

function frame(headers: Record<string, string>, payload: unknown): Buffer {
  const h: MessageHeaders = {};
  for (const [k, v] of Object.entries(headers)) h[k] = { type: 'string', value: v };
  return Buffer.from(codec.encode({ headers: h, body: new Uint8Array(Buffer.from(JSON.stringify(payload), 'utf8')) }));
}

export const eventFrame = (eventType: string, payload: unknown): Buffer =>
  frame({ ':message-type': 'event', ':event-type': eventType, ':content-type': JSON_CT }, payload);

export const exceptionFrame = (exceptionType: string, payload: unknown): Buffer =>
  frame({ ':message-type': 'exception', ':exception-type': exceptionType, ':content-type': JSON_CT }, payload);

const TEXT_FRAMES = STREAMS.example_text_stream.map((e) => eventFrame(e[':event-type'], e.payload));
const METADATA = STREAMS.example_text_stream.find((e) => e[':event-type'] === 'metadata')?.payload ?? { usage: USAGE, metrics: METRICS };

const TOOL_FRAMES = new Map<string, Buffer[]>();
function toolFrames(name: string): Buffer[] {
  return memo(TOOL_FRAMES, name, () =>
    STREAMS.example_tool_stream.map((e) => {
      if (e[':event-type'] === 'contentBlockStart') {
        const start = e.payload.start as { toolUse: Obj };
        return eventFrame('contentBlockStart', { ...e.payload, start: { toolUse: { ...start.toolUse, name } } });
      }
      // The fixture's tool-stream usage is a zero placeholder: use the text stream's numbers.
      return eventFrame(e[':event-type'], e[':event-type'] === 'metadata' ? METADATA : e.payload);
    }),
  );
}

function textFrames(deltas: string[], outputTokens?: number): Buffer[] {
  const usage = outputTokens === undefined ? METADATA : { ...METADATA, usage: { ...USAGE, outputTokens, totalTokens: USAGE.inputTokens + outputTokens } };
  return [
    eventFrame('messageStart', { role: 'assistant' }),
    ...deltas.map((text) => eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })),
    eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
    eventFrame('messageStop', { stopReason: 'end_turn' }),
    eventFrame('metadata', usage),
  ];
}

// ---------------------------------------------------------------------------------------------
// SigV4 verification
// ---------------------------------------------------------------------------------------------

type SourceData = string | ArrayBuffer | ArrayBufferView;
const toBuffer = (d: SourceData): Buffer =>
  typeof d === 'string' ? Buffer.from(d, 'utf8') : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

/** SHA-256 (or HMAC-SHA-256 with a secret) from node:crypto, in the SDK's Checksum shape. */
export class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
}

interface AwsError {
  status: number;
  type: string;
  message: string;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
/**
 * A SigV4 signer for the fake credentials. The fake verifies with `applyChecksum: false` (it
 * recomputes over exactly the headers a request signed); clients sign with the default.
 */
export function fakeSigner(opts: { applyChecksum?: boolean } = {}): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: FAKE_AWS.accessKeyId, secretAccessKey: FAKE_AWS.secretAccessKey },
    region: FAKE_AWS.region,
    service: 'bedrock',
    sha256: NodeSha256,
    uriEscapePath: true,
    ...opts,
  });
}

const signer = fakeSigner({ applyChecksum: false });

/** Recomputes the request's SigV4 signature over exactly the headers it says it signed. */
async function checkSignature(req: IncomingMessage, body: string): Promise<AwsError | undefined> {
  const auth = req.headers.authorization;
  if (!auth) return { status: 403, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const m = AUTH.exec(auth);
  if (!m) {
    return {
      status: 403,
      type: 'IncompleteSignatureException',
      message: "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
    };
  }
  const [, keyId, day, region, service, signedList = '', signature = ''] = m;
  if (keyId !== FAKE_AWS.accessKeyId)
    return { status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (region !== FAKE_AWS.region)
    return { status: 403, type: 'InvalidSignatureException', message: `Credential should be scoped to a valid region, not '${region}'.` };
  if (service !== 'bedrock') return { status: 403, type: 'InvalidSignatureException', message: "Credential should be scoped to correct service: 'bedrock'." };
  const amzDate = req.headers['x-amz-date'];
  const when = typeof amzDate === 'string' && amzDate.startsWith(day ?? '-') ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate) : null;
  if (!when) return { status: 403, type: 'IncompleteSignatureException', message: 'Date must be in ISO-8601 basic format and match the credential scope.' };
  const signed = signedList.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date'))
    return { status: 403, type: 'InvalidSignatureException', message: 'The host and x-amz-date headers must be signed.' };
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const v = req.headers[name];
    if (v === undefined) return { status: 403, type: 'InvalidSignatureException', message: SIGNATURE_MISMATCH };
    headers[name] = Array.isArray(v) ? v.join(',') : v;
  }
  const claimedHash = headers['x-amz-content-sha256'];
  if (claimedHash !== undefined && claimedHash !== createHash('sha256').update(body, 'utf8').digest('hex')) {
    return { status: 400, type: 'XAmzContentSHA256Mismatch', message: 'The provided x-amz-content-sha256 header does not match what was computed.' };
  }
  const url = new URL(req.url ?? '/', 'http://fake');
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    query[k] = v;
  });
  const [, y, mo, d, h, mi, s] = when;
  const expected = await signer.sign(
    { method: req.method ?? 'GET', protocol: 'http:', hostname: url.hostname, path: url.pathname, query, headers, body },
    { signingDate: new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`) },
  );
  const got = /Signature=([0-9a-f]{64})$/.exec(expected.headers.authorization ?? '')?.[1] ?? '';
  if (got.length !== signature.length || !timingSafeEqual(Buffer.from(got), Buffer.from(signature))) {
    return { status: 403, type: 'InvalidSignatureException', message: SIGNATURE_MISMATCH };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

function sendError(ex: Exchange, requestId: string, e: AwsError, body?: string): void {
  sendBody(ex.res, e.status, JSON_CT, body ?? JSON.stringify({ message: e.message }), {
    'x-amzn-errortype': ERROR_TYPE_HEADER.get(e.type) ?? e.type,
    'x-amzn-requestid': requestId,
  });
}

function exceptionOfStatus(status: number): AwsError {
  const type = EXCEPTION_OF_STATUS.get(status) ?? (status >= 500 ? 'InternalServerException' : 'ValidationException');
  return { status, type, message: ERRORS.exceptions[type]?.doc ?? type };
}

const validation = (message: string): AwsError => ({ status: 400, type: 'ValidationException', message });

/** Text of the toolResult blocks in the last message, when it is a user turn answering tools. */
function toolResultText(body: Obj): string | undefined {
  const messages = body.messages as unknown[];
  const last = messages[messages.length - 1];
  if (!isRecord(last) || last.role !== 'user' || !Array.isArray(last.content)) return undefined;
  const texts: string[] = [];
  for (const block of last.content) {
    if (!isRecord(block) || !isRecord(block.toolResult)) continue;
    const content = block.toolResult.content;
    for (const c of Array.isArray(content) ? content : []) if (isRecord(c) && typeof c.text === 'string') texts.push(c.text);
  }
  return texts.length > 0 || last.content.some((b) => isRecord(b) && isRecord(b.toolResult)) ? texts.join(' ') : undefined;
}

function firstToolName(body: Obj): string | undefined {
  const tools = isRecord(body.toolConfig) ? body.toolConfig.tools : undefined;
  const first: unknown = Array.isArray(tools) ? tools[0] : undefined;
  return isRecord(first) && isRecord(first.toolSpec) && typeof first.toolSpec.name === 'string' ? first.toolSpec.name : undefined;
}

function converse(ex: Exchange, requestId: string, body: Obj, streaming: boolean): void {
  const b = ex.behaviour;
  const headers = { 'x-amzn-requestid': requestId };
  const resultText = toolResultText(body);
  const tool = resultText === undefined ? firstToolName(body) : undefined;
  if (!streaming) {
    const answer = resultText !== undefined ? textAnswer(`The tool said: ${resultText}`) : tool ? toolAnswer(tool) : CONVERSE_RAW;
    sendBody(ex.res, 200, JSON_CT, answer, headers);
    return;
  }
  const frames =
    b?.streamChunks !== undefined
      ? textFrames(
          Array.from({ length: Math.max(0, Math.floor(b.streamChunks)) }, (_, i) => `tok${i} `),
          Math.floor(b.streamChunks),
        )
      : resultText !== undefined
        ? textFrames([`The tool said: ${resultText}`])
        : tool
          ? toolFrames(tool)
          : TEXT_FRAMES;
  const fail =
    b?.failAfterChunks === undefined
      ? undefined
      : {
          after: b.failAfterChunks,
          finish: () =>
            ex.res.end(
              b.status === 429
                ? exceptionFrame('throttlingException', STREAMS.example_exception_frame.payload)
                : exceptionFrame('modelStreamErrorException', {
                    message: 'The model failed while streaming.',
                    originalStatusCode: 500,
                    originalMessage: 'internal model error',
                  }),
            ),
        };
  writeStream(ex, 200, { 'content-type': 'application/vnd.amazon.eventstream', ...headers }, frames, fail);
}

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** A deterministic unit-range vector for a text, so equal texts embed equally. */
function vectorOf(text: string, dims: number): number[] {
  const seed = createHash('sha256').update(text).digest();
  return Array.from({ length: dims }, (_, i) => ((seed[i % seed.length] ?? 0) - 128 + (i % 7)) / 256);
}

function invoke(ex: Exchange, requestId: string, modelId: string, body: Obj): void {
  const send = (answer: Obj, tokens: number): void =>
    sendBody(ex.res, 200, JSON_CT, JSON.stringify(answer), {
      'x-amzn-requestid': requestId,
      'x-amzn-bedrock-input-token-count': String(tokens),
      'x-amzn-bedrock-invocation-latency': '12',
    });
  if (modelId.includes('titan-embed-text')) {
    if (typeof body.inputText !== 'string')
      return sendError(ex, requestId, validation('Malformed input request: #: required key [inputText] not found, please reformat your input and try again.'));
    const v2 = modelId.includes('-v2');
    const dims = v2 ? (body.dimensions ?? 1024) : 1536;
    if (v2 && dims !== 256 && dims !== 512 && dims !== 1024)
      return sendError(
        ex,
        requestId,
        validation('Malformed input request: #/dimensions: 1000 is not a valid enum value, please reformat your input and try again.'),
      );
    if (!v2 && body.dimensions !== undefined)
      return sendError(
        ex,
        requestId,
        validation('Malformed input request: #: extraneous key [dimensions] is not permitted, please reformat your input and try again.'),
      );
    const embedding = vectorOf(body.inputText, dims as number);
    const tokens = words(body.inputText);
    return send(v2 ? { embedding, embeddingsByType: { float: embedding }, inputTextTokenCount: tokens } : { embedding, inputTextTokenCount: tokens }, tokens);
  }
  if (modelId.includes('cohere.embed')) {
    const texts = body.texts;
    if (!Array.isArray(texts) || !texts.every((t): t is string => typeof t === 'string') || typeof body.input_type !== 'string') {
      return sendError(
        ex,
        requestId,
        validation('Malformed input request: #: required key [texts, input_type] not found, please reformat your input and try again.'),
      );
    }
    const dims = typeof body.output_dimension === 'number' ? body.output_dimension : 1024;
    return send(
      { embeddings: texts.map((t) => vectorOf(t, dims)), id: randomUUID(), response_type: 'embeddings_floats', texts },
      texts.reduce((n, t) => n + words(t), 0),
    );
  }
  sendError(ex, requestId, validation('The provided model identifier is invalid.'));
}

const ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/;

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

export async function startBedrockUpstream(): Promise<BedrockUpstream> {
  const signatureChecks: SignatureCheck[] = [];

  const handle = async (ex: Exchange): Promise<void> => {
    const requestId = randomUUID();
    // Authentication first, as AWS does: nothing else is looked at for an unsigned request.
    const denied = await checkSignature(ex.req, ex.recorded.body);
    signatureChecks.push({ path: ex.pathname, ok: denied === undefined, ...(denied ? { error: denied.type } : {}) });
    if (signatureChecks.length > 1000) signatureChecks.splice(0, signatureChecks.length - 1000);
    if (denied) return sendError(ex, requestId, denied);

    const b = ex.behaviour;
    if (b?.status !== undefined && b.failAfterChunks === undefined) return sendError(ex, requestId, exceptionOfStatus(b.status), b.body);

    const route = ROUTE.exec(ex.pathname);
    if (ex.req.method !== 'POST' || !route) {
      return sendError(ex, requestId, { status: 404, type: 'UnknownOperationException', message: `Unknown operation ${ex.req.method ?? ''} ${ex.pathname}` });
    }
    const body = ex.recorded.json;
    if (ex.invalidJson || !isRecord(body)) return sendError(ex, requestId, validation('Malformed input request, please reformat your input and try again.'));
    const modelId = decodeURIComponent(route[1] ?? '');
    if (route[2] === 'invoke') return invoke(ex, requestId, modelId, body);
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      return sendError(ex, requestId, validation('A conversation must start with a user message.'));
    converse(ex, requestId, body, route[2] === 'converse-stream');
  };

  const upstream = await startFakeServer((ex) => {
    handle(ex).catch((err: unknown) => {
      if (!ex.res.headersSent) sendBody(ex.res, 500, 'text/plain; charset=utf-8', `fake bedrock crashed: ${String(err)}`);
      else ex.res.destroy();
    });
  }, '');
  return Object.assign(upstream, { region: FAKE_AWS.region, signatureChecks });
}
