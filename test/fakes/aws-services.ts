// Fake SQS, SNS and Secrets Manager endpoints on 127.0.0.1 speaking the wire formats the AWS SDK
// clients use: SQS's JSON 1.0 protocol (X-Amz-Target: AmazonSQS.<Action>, MD5 of each body in the
// reply, which the client verifies), SNS's query protocol (form-encoded request, XML reply) and
// Secrets Manager's JSON 1.1 protocol. They record every request, and can refuse the next few, to
// test retries and fallbacks. The SDK clients reach them through AWS_ENDPOINT_URL_<SERVICE>.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAws<R> {
  url: string;
  requests: R[];
  /** The next `n` requests fail with a 500 (retryable) error. */
  failNext(n: number): void;
  close(): Promise<void>;
}

export interface SqsRequest {
  action: string;
  body: Record<string, unknown>;
  /** Answered with an error (see failNext). */
  refused: boolean;
}

export interface SnsRequest {
  action: string;
  params: Record<string, string>;
  refused: boolean;
}

async function listen(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** SQS: SendMessage and SendMessageBatch (an entry whose body contains "REFUSE" is reported failed). */
export async function startFakeSqs(): Promise<FakeAws<SqsRequest>> {
  const requests: SqsRequest[] = [];
  let failures = 0;
  const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');
  const { server, url } = await listen((req, raw, res) => {
    const action = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    requests.push({ action, body, refused: failures > 0 });
    const reply = (status: number, json: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID(), ...headers });
      res.end(JSON.stringify(json));
    };
    if (failures > 0) {
      failures--;
      reply(
        500,
        { __type: 'com.amazonaws.sqs#InternalError', message: 'We encountered an internal error. Please try again.' },
        { 'x-amzn-query-error': 'InternalError;Receiver' },
      );
      return;
    }
    if (action === 'SendMessageBatch') {
      const entries = (body.Entries ?? []) as Array<{ Id: string; MessageBody: string }>;
      const refused = entries.filter((e) => e.MessageBody.includes('REFUSE'));
      reply(200, {
        Successful: entries.filter((e) => !refused.includes(e)).map((e) => ({ Id: e.Id, MessageId: randomUUID(), MD5OfMessageBody: md5(e.MessageBody) })),
        Failed: refused.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError', Message: 'Internal error' })),
      });
    } else if (action === 'SendMessage') {
      reply(200, { MessageId: randomUUID(), MD5OfMessageBody: md5(String(body.MessageBody)) });
    } else {
      reply(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: `Unsupported action ${action}` }, { 'x-amzn-query-error': 'InvalidAction;Sender' });
    }
  });
  return { url, requests, failNext: (n) => void (failures = n), close: () => closeServer(server) };
}

/** SNS: Publish. */
export async function startFakeSns(): Promise<FakeAws<SnsRequest>> {
  const requests: SnsRequest[] = [];
  let failures = 0;
  const { server, url } = await listen((_req, raw, res) => {
    const params = Object.fromEntries(new URLSearchParams(raw));
    requests.push({ action: params.Action ?? '', params, refused: failures > 0 });
    const requestId = randomUUID();
    res.setHeader('content-type', 'text/xml');
    if (failures > 0) {
      failures--;
      res.writeHead(500);
      res.end(
        `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">` +
          `<Error><Type>Receiver</Type><Code>InternalError</Code><Message>Internal error</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
      return;
    }
    res.writeHead(200);
    res.end(
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  });
  return { url, requests, failNext: (n) => void (failures = n), close: () => closeServer(server) };
}

export interface SecretsRequest {
  action: string;
  body: Record<string, unknown>;
  refused: boolean;
}

export interface FakeSecretsManager extends FakeAws<SecretsRequest> {
  /** The SecretString GetSecretValue answers with (set it before the function reads it). */
  text: string;
}

/** Secrets Manager: GetSecretValue, answering with `text` for whatever SecretId is asked. */
export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  let failures = 0;
  const fake = {
    requests: [] as SecretsRequest[],
    text: '',
    failNext: (n: number) => void (failures = n),
  };
  const { server, url } = await listen((req, raw, res) => {
    const action = String(req.headers['x-amz-target'] ?? '').replace(/^secretsmanager\./, '');
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    fake.requests.push({ action, body, refused: failures > 0 });
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    if (failures > 0) {
      failures--;
      res.writeHead(500).end(JSON.stringify({ __type: 'InternalServiceError', message: 'An error occurred on the server side.' }));
      return;
    }
    if (action !== 'GetSecretValue') {
      res.writeHead(400).end(JSON.stringify({ __type: 'InvalidRequestException', message: `Unsupported action ${action}` }));
      return;
    }
    const arn = String(body.SecretId);
    res
      .writeHead(200)
      .end(
        JSON.stringify({ ARN: arn, Name: arn.split(':').pop(), VersionId: 'v1', VersionStages: ['AWSCURRENT'], SecretString: fake.text, CreatedDate: 1.7e9 }),
      );
  });
  return Object.assign(fake, { url, close: () => closeServer(server) });
}
