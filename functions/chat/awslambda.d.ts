// Types for the `awslambda` global that the Node.js Lambda runtime provides to handlers (it is not
// an importable package). Only what functions/chat uses is declared.
import type { Writable } from 'node:stream';

declare global {
  namespace awslambda {
    /**
     * The stream a streaming handler writes to. Recent runtimes pass an object with Writable's
     * methods bound rather than a Writable instance, so code must rely only on these members
     * (no `stream.pipeline` / `finished` internals).
     */
    type ResponseStream = Pick<Writable, 'write' | 'end' | 'on' | 'once' | 'off' | 'destroy' | 'destroyed' | 'writableFinished'>;

    interface Context {
      awsRequestId: string;
    }

    type StreamingHandler<TEvent> = (event: TEvent, responseStream: ResponseStream, context: Context) => Promise<void>;

    /** Status and headers sent ahead of the body (the runtime writes them as a JSON prelude). */
    interface HttpResponseMetadata {
      statusCode: number;
      headers: Record<string, string>;
    }

    function streamifyResponse<TEvent>(handler: StreamingHandler<TEvent>): StreamingHandler<TEvent>;

    namespace HttpResponseStream {
      function from(stream: ResponseStream, metadata: HttpResponseMetadata): ResponseStream;
    }
  }
}

export {};
