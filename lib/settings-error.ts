// The one error a bad context value raises: bin/ai-gateway.ts prints its message, a single line
// naming the context key, and exits 1 instead of showing a stack trace.
export class SettingsError extends Error {
  constructor(message: string) {
    super(`AiGateway: ${message}`);
    this.name = 'SettingsError';
  }
}
