// Writing OpenAI-style SSE and splicing gateway metadata into provider JSON.
import type { GatewayError } from './errors';

export const SSE_DONE = 'data: [DONE]\n\n';

export const sseEvent = (json: string): string => `data: ${json}\n\n`;

/** The error event that ends a stream which failed after its first byte. */
export const sseError = (err: GatewayError): string => sseEvent(JSON.stringify(err.toBody()));

/**
 * Adds `"x_gateway": {...}` to a JSON object's text without parsing and re-encoding it:
 * the provider's bytes pass through and only the metadata is serialised.
 */
export function spliceMetadata(objectJson: string, metadata: unknown): string {
  const end = objectJson.lastIndexOf('}');
  const head = objectJson.slice(0, end).trimEnd();
  const separator = head.endsWith('{') ? '' : ',';
  return `${head}${separator}"x_gateway":${JSON.stringify(metadata)}}`;
}
