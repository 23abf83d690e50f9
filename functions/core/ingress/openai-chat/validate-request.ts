// The OpenAI chat-completions request as the gateway accepts it: the fields the gateway and its
// providers rely on are checked (each problem a 400 naming the field); unknown fields pass through.
// The request is the canonical one as it stands: nothing is translated.
import type { ChatCompletionRequest } from '../../chat/model';
import { badRequest } from '../../errors';
import { Checker, isObject, type Json } from '../../validate';

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

/** Checks the fields the gateway and its providers rely on; unknown fields pass through. */
export function validateChatRequest(body: Json): ChatCompletionRequest {
  const c: Checker = new Checker(body);
  if (body.model === undefined) throw badRequest("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (typeof body.model !== 'string') c.fail('model', 'a string', body.model);
  if (body.model.trim() === '') throw badRequest("Invalid value for 'model': it must not be empty.", 'model', 'invalid_value');

  if (body.messages === undefined) throw badRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(body.messages)) c.fail('messages', 'an array', body.messages);
  if (body.messages.length === 0) throw badRequest("Invalid value for 'messages': it must contain at least one message.", 'messages', 'invalid_value');
  body.messages.forEach((m, i) => validateMessage(c, m, `messages[${i}]`));

  c.optionalBoolean('stream');
  if (body.stream_options !== undefined && body.stream_options !== null) {
    if (!isObject(body.stream_options)) c.fail('stream_options', 'an object', body.stream_options);
    const iu = body.stream_options.include_usage;
    if (iu !== undefined && typeof iu !== 'boolean') c.fail('stream_options.include_usage', 'a boolean', iu);
  }
  c.optionalNumber('temperature', 0, 2);
  c.optionalNumber('top_p', 0, 1);
  c.optionalNumber('max_tokens', 1, Number.MAX_SAFE_INTEGER, true);
  c.optionalNumber('max_completion_tokens', 1, Number.MAX_SAFE_INTEGER, true);
  c.optionalNumber('n', 1, 128, true);
  c.optionalNumber('presence_penalty', -2, 2);
  c.optionalNumber('frequency_penalty', -2, 2);
  c.optionalNumber('seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);

  const stop = body.stop;
  if (stop !== undefined && stop !== null && typeof stop !== 'string') {
    if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string')) c.fail('stop', 'a string or an array of strings', stop);
  }

  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) c.fail('tools', 'an array', body.tools);
    body.tools.forEach((t, i) => {
      const p = `tools[${i}]`;
      if (!isObject(t)) c.fail(p, 'an object', t);
      if (t.type !== 'function') throw badRequest(`Invalid value for '${p}.type': only "function" tools are supported.`, `${p}.type`, 'invalid_value');
      if (!isObject(t.function)) c.fail(`${p}.function`, 'an object', t.function);
      if (typeof t.function.name !== 'string' || t.function.name === '') c.fail(`${p}.function.name`, 'a non-empty string', t.function.name);
      if (t.function.parameters !== undefined && !isObject(t.function.parameters)) c.fail(`${p}.function.parameters`, 'an object', t.function.parameters);
    });
  }

  if (body.response_format !== undefined && body.response_format !== null) {
    const rf = body.response_format;
    if (!isObject(rf)) c.fail('response_format', 'an object', rf);
    if (rf.type !== 'text' && rf.type !== 'json_object' && rf.type !== 'json_schema') {
      throw badRequest("Invalid value for 'response_format.type': expected 'text', 'json_object' or 'json_schema'.", 'response_format.type', 'invalid_value');
    }
    if (rf.type === 'json_schema' && !isObject(rf.json_schema)) c.fail('response_format.json_schema', 'an object', rf.json_schema);
  }
  return body as unknown as ChatCompletionRequest;
}

function validateMessage(c: Checker, m: unknown, p: string): void {
  if (!isObject(m)) c.fail(p, 'an object', m);
  if (m.role === undefined) throw badRequest(`Missing required parameter: '${p}.role'.`, `${p}.role`, 'missing_required_parameter');
  if (typeof m.role !== 'string' || !ROLES.has(m.role)) {
    throw badRequest(`Invalid value for '${p}.role': expected one of system, developer, user, assistant, tool.`, `${p}.role`, 'invalid_value');
  }
  const content = m.content;
  if (content !== undefined && content !== null && typeof content !== 'string') {
    if (!Array.isArray(content)) c.fail(`${p}.content`, 'a string or an array of content parts', content);
    content.forEach((part, j) => validatePart(c, part, `${p}.content[${j}]`));
  }
  if ((content === undefined || content === null) && m.role !== 'assistant') {
    throw badRequest(`Missing required parameter: '${p}.content'.`, `${p}.content`, 'missing_required_parameter');
  }
  if (m.role === 'tool' && typeof m.tool_call_id !== 'string') {
    throw badRequest(`Missing required parameter: '${p}.tool_call_id' (tool messages answer a tool call).`, `${p}.tool_call_id`, 'missing_required_parameter');
  }
  if (m.tool_calls !== undefined && m.tool_calls !== null) {
    if (!Array.isArray(m.tool_calls)) c.fail(`${p}.tool_calls`, 'an array', m.tool_calls);
    m.tool_calls.forEach((call, k) => {
      const q = `${p}.tool_calls[${k}]`;
      if (!isObject(call)) c.fail(q, 'an object', call);
      if (typeof call.id !== 'string') c.fail(`${q}.id`, 'a string', call.id);
      if (!isObject(call.function)) c.fail(`${q}.function`, 'an object', call.function);
      if (typeof call.function.name !== 'string') c.fail(`${q}.function.name`, 'a string', call.function.name);
      if (typeof call.function.arguments !== 'string') c.fail(`${q}.function.arguments`, 'a string', call.function.arguments);
    });
  }
}

function validatePart(c: Checker, part: unknown, p: string): void {
  if (!isObject(part)) c.fail(p, 'an object', part);
  if (part.type === 'text') {
    if (typeof part.text !== 'string') c.fail(`${p}.text`, 'a string', part.text);
  } else if (part.type === 'image_url') {
    if (!isObject(part.image_url)) c.fail(`${p}.image_url`, 'an object', part.image_url);
    if (typeof part.image_url.url !== 'string') c.fail(`${p}.image_url.url`, 'a string', part.image_url.url);
  } else if (typeof part.type !== 'string') {
    c.fail(`${p}.type`, 'a string', part.type);
  }
}
