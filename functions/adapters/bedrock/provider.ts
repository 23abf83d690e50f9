// functions/adapters/bedrock — the Bedrock provider: canonical chat and embeddings requests ⇄
// Converse, ConverseStream and InvokeModel through the AWS SDK, loaded on first use (lazy.ts). It
// implements core/providers/provider.ts like the providers in the core and uses their helpers; the
// SDK is the only reason it lives outside functions/core.
//
// AWS Bedrock through the Converse / ConverseStream API, which serves every Bedrock chat model
// with one request shape: to-converse.ts (requests), from-converse.ts (answers and stream
// events), errors.ts (exceptions), embeddings.ts (InvokeModel for Titan and Cohere).
// It lives outside functions/core because it needs the AWS SDK (SigV4, the event-stream codec).
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, type ConverseStreamCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import type { NodeHttpHandler, NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { GatewayError } from '../../core/errors';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../core/providers/stream-framing';
import type { ChatCompletionRequest, StreamResult, SyncResult } from '../../core/chat/model';
import type { EmbeddingsRequest, ModelObject } from '../../core/openai-types';
import type { PriceBook } from '../../core/pricing/pricing';
import type { CallContext, EmbeddingsResult, Provider, ProviderHealth } from '../../core/providers/provider';
import { CallGuard } from './call';
import { embed } from './embeddings';
import { PROVIDER } from './errors';
import { cappedEvents, capResponse } from './response-cap';
import { toOpenAIChunks, toOpenAICompletion, type AnswerMeta } from './from-converse';
import { toConverseInput } from './to-converse';
import { withTraceContext } from './trace-context';

export interface BedrockOptions {
  /** The provider's name in routes, metrics and usage: `bedrock`, or a named region's (`bedrock-west`). */
  name?: string;
  /** AWS_REGION; the provider is configured when it is known. */
  region?: string;
  prices: PriceBook;
  /** A ready client (tests); otherwise one is created for the region. */
  client?: BedrockRuntimeClient;
}

/** How long health() waits for the SDK to find credentials (the default chain may ask IMDS). */
const HEALTH_TIMEOUT_MS = 2000;

/**
 * The client for one region. Credentials come from the SDK's default chain and the endpoint
 * honours AWS_ENDPOINT_URL_BEDROCK_RUNTIME.
 * - HTTP/1.1 with keep-alive: this client's default handler is HTTP/2 with
 *   `disableConcurrentStreams`, which opens (and closes) a new TLS connection for every call.
 *   Converse, ConverseStream and InvokeModel work over HTTP/1.1; only the bidirectional stream
 *   (unused here) needs HTTP/2. 512 sockets, as for the other providers: a stream holds one.
 * - maxAttempts 1: the gateway's fallback and circuit breaker decide about retries; SDK retries
 *   would hide failures from both and multiply load on a throttled account.
 */
function bedrockClient(region: string): BedrockRuntimeClient {
  const agent = { keepAlive: true, maxSockets: 512 };
  return new BedrockRuntimeClient({
    region,
    maxAttempts: 1,
    requestHandler: sdkHttp1Handler({ httpAgent: agent, httpsAgent: agent }),
  });
}

/** A name rather than a literal: bundlers then leave the lookup to run time, where it belongs. */
const CLIENT_PACKAGE = '@aws-sdk/client-bedrock-runtime';

/**
 * The HTTP/1.1 handler of the very SDK the client comes from (a dependency the client package
 * declares), so client and handler always match: in Lambda both are the runtime's, and the
 * bundles carry no HTTP handler of their own.
 */
function sdkHttp1Handler(options: NodeHttpHandlerOptions): NodeHttpHandler {
  const requireFromClient = createRequire(require.resolve(CLIENT_PACKAGE));
  const { NodeHttpHandler: Handler } = requireFromClient('@smithy/node-http-handler') as typeof import('@smithy/node-http-handler');
  return new Handler(options);
}

export class BedrockProvider implements Provider {
  readonly name: string;
  readonly configured: boolean;
  private readonly client: BedrockRuntimeClient | undefined;

  constructor(private readonly opts: BedrockOptions) {
    this.name = opts.name ?? PROVIDER;
    this.configured = opts.region !== undefined || opts.client !== undefined;
    // One client for the process: it owns the connection pool and caches resolved credentials.
    this.client = opts.client ?? (opts.region !== undefined ? bedrockClient(opts.region) : undefined);
  }

  async chat(request: ChatCompletionRequest, ctx: CallContext): Promise<SyncResult | StreamResult> {
    const client = this.requireClient();
    // Translated before anything is sent, so a request Converse cannot take is the client's 400.
    const input = toConverseInput(request, request.model);
    const meta: AnswerMeta = { id: `chatcmpl-${randomBytes(12).toString('base64url')}`, created: Math.floor(Date.now() / 1000), model: request.model };
    const guard = new CallGuard(ctx);
    const maxBytes = ctx.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (!request.stream) {
      const command = withTraceContext(new ConverseCommand(input), ctx);
      capResponse(command, maxBytes, false);
      try {
        const out = await guard.run((abortSignal) => client.send(command, { abortSignal }));
        return { kind: 'json', completion: toOpenAICompletion(out, meta) };
      } finally {
        guard.close(false);
      }
    }
    // Resolves with the response head; the events are read as the client reads the chunks.
    let stream: ConverseStreamCommandOutput['stream'];
    const command = withTraceContext(new ConverseStreamCommand(input), ctx);
    const cap = capResponse(command, maxBytes, true);
    try {
      stream = (await guard.run((abortSignal) => client.send(command, { abortSignal }))).stream;
    } catch (err) {
      guard.close(true);
      throw err;
    }
    if (!stream) {
      guard.close(true);
      throw new GatewayError(502, `${PROVIDER} answered ConverseStream without an event stream.`, {
        type: 'api_error',
        code: 'upstream_bad_response',
        retryable: true,
      });
    }
    return { kind: 'stream', ...meta, chunks: toOpenAIChunks(cappedEvents(guard.events(stream), cap), meta) };
  }

  async embed(request: EmbeddingsRequest, ctx: CallContext): Promise<EmbeddingsResult> {
    return embed(this.requireClient(), request, ctx);
  }

  async listModels(): Promise<ModelObject[]> {
    return this.opts.prices.modelsOf(this.name).map(([id]) => ({ id, object: 'model', created: 0, owned_by: this.name }));
  }

  /**
   * 'ok' when the SDK can find credentials to sign with. Bedrock Runtime has no free, permission-
   * less read to probe, and /health is unauthenticated and polled: calling AWS from it would cost
   * requests, IAM grants and CloudTrail noise. Resolved credentials are cached by the SDK.
   */
  async health(): Promise<ProviderHealth> {
    if (!this.configured || !this.client) return 'unconfigured';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), HEALTH_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.client.config.credentials(), timeout]);
      return 'ok';
    } catch {
      return 'error';
    } finally {
      clearTimeout(timer);
    }
  }

  private requireClient(): BedrockRuntimeClient {
    if (!this.client) {
      throw new GatewayError(404, 'Bedrock is not configured on this gateway (set AWS_REGION).', {
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      });
    }
    return this.client;
  }
}
