import { HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { catchError, throwError } from 'rxjs';

import { ApiError } from '../models/problem.model';
import { API_BASE_URL } from '../services/api.config';
import { ApiKeyService } from '../services/api-key.service';
import { toApiError } from './problem.interceptor';

/** Header that carries the API key in API-key mode. */
export const API_KEY_HEADER = 'X-API-Key';

/** Title of the {@link ApiError} of a 401 answer. */
export const API_KEY_REQUIRED_TITLE = 'API key required';

/**
 * Sends the stored API key as `X-API-Key` on requests to the API (never to other hosts),
 * and turns a 401 answer into an {@link ApiError} whose detail asks for an API key.
 */
export const apiKeyInterceptor: HttpInterceptorFn = (req, next) => {
  const apiKeys = inject(ApiKeyService);
  const apiKey = apiKeys.apiKey();
  const sendsKey = apiKey !== null && isApiRequest(req.url);
  const request = sendsKey ? req.clone({ setHeaders: { [API_KEY_HEADER]: apiKey } }) : req;
  return next(request).pipe(
    catchError((error: unknown) => {
      const apiError = toApiError(error);
      if (apiError.status !== 401) {
        return throwError(() => apiError);
      }
      apiKeys.markKeyRequired();
      return throwError(() => unauthorized(apiError, sendsKey));
    }),
  );
};

function isApiRequest(url: string): boolean {
  return (
    url === API_BASE_URL || url.startsWith(`${API_BASE_URL}/`) || url.startsWith(`${API_BASE_URL}?`)
  );
}

function unauthorized(error: ApiError, keySent: boolean): ApiError {
  const detail = keySent
    ? 'The server rejected your API key: check the key in the "API key" box at the top of the page and press Enter (or Save)'
    : 'This server requires an API key: enter it in the "API key" box at the top of the page and press Enter (or Save)';
  return { ...error, title: API_KEY_REQUIRED_TITLE, detail };
}
