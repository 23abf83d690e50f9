// The one redaction helper: every key shape the gateway handles is masked, its kind still readable.
import { REDACTED, redactText, redactingReplacer } from '../../functions/core/redact';

describe('redactText', () => {
  it.each([
    ['OpenAI key', 'key sk-live-4f9a8b7c6d5e', 'key sk-[REDACTED]'],
    ['OpenAI project key', 'sk-proj-AbCdEf123456_x', 'sk-proj-[REDACTED]'],
    ['Anthropic key', 'x-api-key: sk-ant-api03-abcdefgh', 'x-api-key: sk-ant-[REDACTED]'],
    ['bearer token', 'Authorization: Bearer abc.def.ghi-123', 'Authorization: Bearer [REDACTED]'],
    ['basic credential in any case', 'authorization: BASIC dXNlcjpwYXNz', 'authorization: BASIC [REDACTED]'],
    ['lower-case bearer token', 'auth bearer abc.def.ghi-123', 'auth bearer [REDACTED]'],
    ['AWS access key id', 'by AKIAIOSFODNN7EXAMPLE.', 'by AKIA[REDACTED].'],
    ['AWS temporary key id', 'ASIAXYZ1234567890ABC', 'ASIA[REDACTED]'],
    ['tenant key', 'gw-0123456789abcdef', 'gw-[REDACTED]'],
  ])('masks a %s', (_kind, input, output) => {
    expect(redactText(input)).toBe(output);
  });

  it('leaves ordinary text alone', () => {
    const text = 'The model `gpt-4o` does not exist (task-1234, ask-me, AKIA-short).';
    expect(redactText(text)).toBe(text);
  });
});

describe('redactingReplacer', () => {
  it('masks secret fields and key-shaped text at any depth', () => {
    const line = JSON.stringify({ error: 'Bearer sk-live-4f9a8b7c6d5e', nested: { password: 'hunter2', list: ['AKIAIOSFODNN7EXAMPLE'] } }, redactingReplacer);
    expect(JSON.parse(line)).toEqual({ error: `Bearer sk-${REDACTED}`, nested: { password: REDACTED, list: [`AKIA${REDACTED}`] } });
  });
});
