// OpenAI embeddings request → Bedrock InvokeModel with the model's native body, and back.
// Titan Text Embeddings (v1, v2) take one text per call: {inputText, dimensions?} →
// {embedding, inputTextTokenCount}. Cohere Embed takes up to 96 texts: {texts, input_type} →
// {embeddings: [[...]] | {float: [[...]]}}, its token count only in a Bedrock response header.
import { InvokeModelCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { badRequest, GatewayError } from '../../core/errors';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/openai-types';
import type { CallContext, EmbeddingsResult } from '../../core/providers/provider';
import { CallGuard } from './call';
import { PROVIDER } from './errors';
import { withTraceContext } from './trace-context';

export type EmbeddingFamily = 'titan-v1' | 'titan-v2' | 'cohere';

const COHERE_BATCH = 96;
/** Titan embeds one text per call; this many calls run at once for a multi-input request. */
const TITAN_CONCURRENCY = 8;
const TOKEN_COUNT_HEADER = 'x-amzn-bedrock-input-token-count';

/** The model's request format, from its id (a cross-region profile prefix like `us.` is ignored). */
export function embeddingFamily(model: string): EmbeddingFamily | undefined {
  const base = model.replace(/^(us|eu|apac|us-gov|ca|jp|au|global)\./, '');
  if (base.startsWith('amazon.titan-embed-text-v2')) return 'titan-v2';
  if (base.startsWith('amazon.titan-embed-text-v1') || base.startsWith('amazon.titan-embed-g1-text')) return 'titan-v1';
  if (base.startsWith('cohere.embed-')) return 'cohere';
  return undefined;
}

export function embeddingTexts(input: EmbeddingsRequest['input']): string[] {
  const texts = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t): t is string => typeof t === 'string')) {
    throw badRequest('Bedrock embedding models take text: "input" must be a string or a non-empty array of strings (not token ids).', 'input');
  }
  return texts;
}

export function titanBody(text: string, req: EmbeddingsRequest, family: 'titan-v1' | 'titan-v2'): Record<string, unknown> {
  if (req.dimensions === undefined) return { inputText: text };
  if (family === 'titan-v1')
    throw badRequest('amazon.titan-embed-text-v1 has a fixed size; "dimensions" works with amazon.titan-embed-text-v2:0 (256, 512 or 1024).', 'dimensions');
  return { inputText: text, dimensions: req.dimensions };
}

export function cohereBody(texts: string[], req: EmbeddingsRequest): Record<string, unknown> {
  // Cohere needs to know what the vectors are for; stored documents is the common case.
  const body: Record<string, unknown> = { texts, input_type: typeof req.input_type === 'string' ? req.input_type : 'search_document' };
  if (typeof req.truncate === 'string') body.truncate = req.truncate;
  if (req.dimensions !== undefined) body.output_dimension = req.dimensions;
  return body;
}

/** Cohere answers `embeddings` as a list of vectors, or by type when embedding types were asked for. */
export function cohereVectors(json: unknown): number[][] {
  const e = (json as { embeddings?: unknown } | null)?.embeddings;
  const vectors = Array.isArray(e) ? e : (e as { float?: unknown } | undefined)?.float;
  if (!Array.isArray(vectors)) throw badAnswer('a Cohere embedding answer without embeddings');
  return vectors as number[][];
}

export function titanVector(json: unknown): { vector: number[]; tokens: number } {
  const j = json as { embedding?: unknown; inputTextTokenCount?: unknown } | null;
  if (!Array.isArray(j?.embedding)) throw badAnswer('a Titan embedding answer without an embedding');
  return { vector: j.embedding as number[], tokens: typeof j.inputTextTokenCount === 'number' ? j.inputTextTokenCount : 0 };
}

/** The OpenAI list; base64 is little-endian float32, as OpenAI encodes it (and its SDKs decode). */
export function toOpenAIEmbeddings(vectors: number[][], tokens: number, req: EmbeddingsRequest): EmbeddingsResponse {
  const base64 = req.encoding_format === 'base64';
  return {
    object: 'list',
    data: vectors.map((v, index) => ({
      object: 'embedding',
      index,
      embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v,
    })),
    model: req.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

export async function embed(client: BedrockRuntimeClient, req: EmbeddingsRequest, ctx: CallContext): Promise<EmbeddingsResult> {
  const family = embeddingFamily(req.model);
  if (!family) {
    throw badRequest(`Bedrock embeddings support Amazon Titan Text Embeddings and Cohere Embed models, not "${req.model}".`, 'model', 'model_not_supported');
  }
  const texts = embeddingTexts(req.input);
  let vectors: number[][] = [];
  let tokens = 0;
  if (family === 'cohere') {
    for (let i = 0; i < texts.length; i += COHERE_BATCH) {
      const answer = await invoke(client, req.model, cohereBody(texts.slice(i, i + COHERE_BATCH), req), ctx);
      vectors = vectors.concat(cohereVectors(answer.json));
      tokens += answer.headerTokens;
    }
  } else {
    const bodies = texts.map((t) => titanBody(t, req, family));
    const answers = await pooled(bodies, TITAN_CONCURRENCY, (body) => invoke(client, req.model, body, ctx));
    for (const answer of answers) {
      const { vector, tokens: n } = titanVector(answer.json);
      vectors.push(vector);
      tokens += n;
    }
  }
  if (vectors.length !== texts.length) throw badAnswer(`${vectors.length} embeddings for ${texts.length} inputs`);
  return { response: toOpenAIEmbeddings(vectors, tokens, req) };
}

interface Invoked {
  json: unknown;
  /** Bedrock's input-token count header (0 when absent). */
  headerTokens: number;
}

async function invoke(client: BedrockRuntimeClient, modelId: string, body: Record<string, unknown>, ctx: CallContext): Promise<Invoked> {
  const command = withTraceContext(
    new InvokeModelCommand({
      modelId,
      body: new TextEncoder().encode(JSON.stringify(body)),
      contentType: 'application/json',
      accept: 'application/json',
    }),
    ctx,
  );
  let headerTokens = 0;
  // The token-count header is not part of the modelled output: read it off the raw response.
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const value = (result.response as { headers?: Record<string, string | undefined> }).headers?.[TOKEN_COUNT_HEADER];
      if (value !== undefined && /^\d+$/.test(value)) headerTokens = Number(value);
      return result;
    },
    { step: 'deserialize', name: 'bedrockInputTokenCount' },
  );
  const guard = new CallGuard(ctx);
  try {
    const out = await guard.run((abortSignal) => client.send(command, { abortSignal }));
    let json: unknown;
    try {
      json = JSON.parse(out.body.transformToString());
    } catch {
      throw badAnswer('an embedding answer that is not JSON');
    }
    return { json, headerTokens };
  } finally {
    guard.close(false);
  }
}

/** Maps `items` through `fn` with at most `limit` calls in flight, keeping the order. */
async function pooled<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const badAnswer = (what: string): GatewayError =>
  new GatewayError(502, `${PROVIDER} sent ${what}.`, { type: 'api_error', code: 'upstream_bad_response', retryable: true });
