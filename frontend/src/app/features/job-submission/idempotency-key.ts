import { ApiError } from '../../core/models/problem.model';

/**
 * One `Idempotency-Key` per submission attempt: `keyFor(request)` returns the same key for
 * the same request until `reset()` (after a success, or when the form changes), so that
 * clicking submit again after a network error or a 503 cannot create a second job.
 * A different request always gets a new key.
 */
export class IdempotencyKeyTracker {
  private current: { readonly key: string; readonly fingerprint: string } | null = null;

  constructor(private readonly generate: () => string = newUuid) {}

  keyFor(request: unknown): string {
    const fingerprint = JSON.stringify(request);
    if (this.current === null || this.current.fingerprint !== fingerprint) {
      this.current = { key: this.generate(), fingerprint };
    }
    return this.current.key;
  }

  reset(): void {
    this.current = null;
  }
}

/**
 * Failures after which the job or batch may or may not exist (no answer, a timeout, 429, a
 * 5xx): a retry must reuse the Idempotency-Key. Any other answer is definite: nothing was
 * created, so the next attempt gets a new key.
 */
export function mayHaveBeenCreated(error: ApiError): boolean {
  return error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500;
}

/**
 * A random (v4) UUID. `crypto.randomUUID()` exists only in secure contexts (https or
 * localhost); elsewhere the UUID is built from `crypto.getRandomValues()`.
 */
export function newUuid(): string {
  if (typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
