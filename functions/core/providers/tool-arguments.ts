import { badRequest } from '../errors';

/**
 * An OpenAI tool call's `arguments` (a JSON string) as the object providers with native tool
 * input want (Anthropic, Bedrock, Ollama). Anything but a JSON object is the client's 400.
 */
export function parseToolArguments(args: string, param: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(args === '' ? '{}' : args);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw badRequest('Tool call arguments must be a JSON object encoded as a string.', param);
}
