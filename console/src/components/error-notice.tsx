// The API's refusal in words, announced to screen readers as it appears.
import { ApiError } from '../api';

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403 && error.code === 'csrf_failed') return 'The request was refused (session check failed). Reload the page and try again.';
    if (error.status === 429 && error.retryAfterSeconds !== null) return `${error.message} Try again in ${error.retryAfterSeconds} s.`;
    return error.message;
  }
  if (error instanceof TypeError) return 'The gateway could not be reached.';
  return error instanceof Error ? error.message : String(error);
}

export function ErrorNotice({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <p class="error" role="alert">
      {errorText(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}
