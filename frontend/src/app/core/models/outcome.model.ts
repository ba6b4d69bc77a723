import { ApiError } from './problem.model';

/** The result of one request inside a polling stream: a value or a normalised error. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ApiError };
