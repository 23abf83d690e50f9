// OpenAI embeddings ⇄ Bedrock InvokeModel bodies for Titan Text Embeddings and Cohere Embed
// (request and response shapes from the AWS model-parameter docs; see embeddings.ts).
import {
  cohereBody,
  cohereVectors,
  embeddingFamily,
  embeddingTexts,
  titanBody,
  titanVector,
  toOpenAIEmbeddings,
} from '../../functions/adapters/bedrock/embeddings';
import type { GatewayError } from '../../functions/core/errors';
import type { EmbeddingsRequest } from '../../functions/core/openai-types';
import { thrownBy } from './fixture-files';

const titan = (extra: Partial<EmbeddingsRequest> = {}): EmbeddingsRequest => ({ model: 'amazon.titan-embed-text-v2:0', input: 'hello', ...extra });

describe('Bedrock embeddings', () => {
  it('tells the request format from the model id, ignoring a cross-region prefix', () => {
    expect(embeddingFamily('amazon.titan-embed-text-v2:0')).toBe('titan-v2');
    expect(embeddingFamily('amazon.titan-embed-text-v1')).toBe('titan-v1');
    expect(embeddingFamily('cohere.embed-english-v3')).toBe('cohere');
    expect(embeddingFamily('us.cohere.embed-v4:0')).toBe('cohere');
    expect(embeddingFamily('anthropic.claude-3-haiku-20240307-v1:0')).toBeUndefined();
  });

  it('takes text inputs only', () => {
    expect(embeddingTexts('a')).toEqual(['a']);
    expect(embeddingTexts(['a', 'b'])).toEqual(['a', 'b']);
    for (const input of [[1, 2, 3], [[1, 2]], []] as EmbeddingsRequest['input'][]) {
      const err = thrownBy(() => embeddingTexts(input)) as GatewayError;
      expect([err.status, err.param]).toEqual([400, 'input']);
    }
  });

  it('builds Titan bodies: one text, dimensions only on v2', () => {
    expect(titanBody('hi', titan(), 'titan-v2')).toEqual({ inputText: 'hi' });
    expect(titanBody('hi', titan({ dimensions: 256 }), 'titan-v2')).toEqual({ inputText: 'hi', dimensions: 256 });
    const err = thrownBy(() => titanBody('hi', titan({ dimensions: 256 }), 'titan-v1')) as GatewayError;
    expect([err.status, err.param]).toEqual([400, 'dimensions']);
  });

  it('builds Cohere bodies with an input_type (search_document unless the client names one)', () => {
    expect(cohereBody(['a', 'b'], { model: 'cohere.embed-english-v3', input: ['a', 'b'] })).toEqual({ texts: ['a', 'b'], input_type: 'search_document' });
    expect(cohereBody(['a'], { model: 'cohere.embed-v4:0', input: 'a', input_type: 'search_query', truncate: 'END', dimensions: 512 })).toEqual({
      texts: ['a'],
      input_type: 'search_query',
      truncate: 'END',
      output_dimension: 512,
    });
  });

  it('reads both answer shapes', () => {
    expect(titanVector({ embedding: [0.1, 0.2], inputTextTokenCount: 3, embeddingsByType: { float: [0.1, 0.2] } })).toEqual({ vector: [0.1, 0.2], tokens: 3 });
    expect(cohereVectors({ embeddings: [[1], [2]], id: 'x', response_type: 'embeddings_floats', texts: ['a', 'b'] })).toEqual([[1], [2]]);
    expect(cohereVectors({ embeddings: { float: [[3]] }, response_type: 'embeddings_by_type' })).toEqual([[3]]);
    expect(thrownBy(() => cohereVectors({}))).toMatchObject({ status: 502, retryable: true });
    expect(thrownBy(() => titanVector({ message: 'nope' }))).toMatchObject({ status: 502 });
  });

  it('answers the OpenAI list, with base64 as little-endian float32', () => {
    const out = toOpenAIEmbeddings(
      [
        [0.5, -1],
        [2, 0.25],
      ],
      7,
      titan(),
    );
    expect(out).toEqual({
      object: 'list',
      model: 'amazon.titan-embed-text-v2:0',
      usage: { prompt_tokens: 7, total_tokens: 7 },
      data: [
        { object: 'embedding', index: 0, embedding: [0.5, -1] },
        { object: 'embedding', index: 1, embedding: [2, 0.25] },
      ],
    });
    const b64 = toOpenAIEmbeddings([[0.5, -1]], 1, titan({ encoding_format: 'base64' })).data[0]?.embedding as string;
    const bytes = Buffer.from(b64, 'base64');
    expect([bytes.readFloatLE(0), bytes.readFloatLE(4)]).toEqual([0.5, -1]);
  });
});
