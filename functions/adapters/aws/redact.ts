// The Lambda logger's redaction is the core's one helper (functions/core/redact.ts), re-exported
// here so the AWS adapters keep importing it from beside them.
export { redactingReplacer } from '../../core/redact';
