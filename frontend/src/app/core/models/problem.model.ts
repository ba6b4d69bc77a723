/** One entry of the `errors` member of a validation problem. */
export interface ProblemFieldError {
  /** Dotted path relative to the request body, e.g. `name` or `payload.text`. */
  field: string;
  message: string;
}

/** RFC 9457 problem details as sent by the API. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: ProblemFieldError[];
}

/**
 * Every failed HTTP call is normalised into this shape by the error interceptor,
 * whether the server answered with problem+json, something else, or not at all.
 */
export interface ApiError {
  readonly kind: 'api-error';
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: readonly ProblemFieldError[];
  /** Seconds from a `Retry-After` header (503), when present. */
  readonly retryAfterSeconds: number | null;
}

export function isApiError(value: unknown): value is ApiError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'api-error'
  );
}
