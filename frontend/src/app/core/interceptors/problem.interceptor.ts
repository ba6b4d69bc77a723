import { HttpErrorResponse, HttpInterceptorFn } from '@angular/common/http';
import { catchError, throwError } from 'rxjs';

import { ApiError, isApiError, ProblemFieldError } from '../models/problem.model';

/**
 * Normalises every HTTP failure into an {@link ApiError}, so components only
 * deal with one error shape (RFC 9457 problem details from the API, plain HTTP
 * errors from a proxy, or network failures with status 0).
 */
export const problemInterceptor: HttpInterceptorFn = (req, next) =>
  next(req).pipe(catchError((error: unknown) => throwError(() => toApiError(error))));

const DEFAULT_TITLES: Readonly<Record<number, string>> = {
  0: 'Network error',
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  422: 'Validation failed',
  503: 'Service unavailable',
};

export function toApiError(error: unknown): ApiError {
  if (isApiError(error)) {
    return error;
  }
  if (!(error instanceof HttpErrorResponse)) {
    return buildError(0, {}, null, error instanceof Error ? error.message : 'Unexpected error');
  }
  const body: Record<string, unknown> = parseBody(error.error);
  const retryAfter = parseRetryAfter(error.headers?.get('Retry-After') ?? null);
  const fallbackDetail =
    error.status === 0
      ? 'The server could not be reached. Check your connection and try again.'
      : error.statusText || error.message;
  return buildError(error.status, body, retryAfter, fallbackDetail);
}

function buildError(
  status: number,
  body: Record<string, unknown>,
  retryAfterSeconds: number | null,
  fallbackDetail: string,
): ApiError {
  const title = stringOr(body['title'], DEFAULT_TITLES[status] ?? `HTTP ${status}`);
  return {
    kind: 'api-error',
    status,
    type: stringOr(body['type'], 'about:blank'),
    title,
    detail: stringOr(body['detail'], fallbackDetail || title),
    errors: parseFieldErrors(body['errors']),
    retryAfterSeconds,
  };
}

function parseBody(raw: unknown): Record<string, unknown> {
  if (typeof raw === 'string') {
    try {
      return parseBody(JSON.parse(raw) as unknown);
    } catch {
      return {};
    }
  }
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw)
    ? (raw as Record<string, unknown>)
    : {};
}

function parseFieldErrors(raw: unknown): ProblemFieldError[] {
  if (!Array.isArray(raw)) {
    return [];
  }
  return raw
    .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    .map((item) => ({
      field: stringOr(item['field'], ''),
      message: stringOr(item['message'], 'Invalid value'),
    }));
}

function parseRetryAfter(value: string | null): number | null {
  if (value === null || value.trim() === '') {
    return null;
  }
  const seconds = Number(value);
  if (Number.isFinite(seconds)) {
    return Math.max(0, Math.round(seconds));
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.round((date - Date.now()) / 1000));
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}
