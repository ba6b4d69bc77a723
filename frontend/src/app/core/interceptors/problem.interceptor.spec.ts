import { HttpClient, HttpErrorResponse, HttpHeaders, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { ApiError, isApiError } from '../models/problem.model';
import { problemInterceptor, toApiError } from './problem.interceptor';

describe('problemInterceptor', () => {
  let http: HttpClient;
  let httpMock: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideHttpClient(withInterceptors([problemInterceptor])), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpClient);
    httpMock = TestBed.inject(HttpTestingController);
  });

  afterEach(() => httpMock.verify());

  function failWith(flush: (req: ReturnType<HttpTestingController['expectOne']>) => void): ApiError {
    let caught: unknown = null;
    http.get('/api/anything').subscribe({ error: (e: unknown) => (caught = e) });
    flush(httpMock.expectOne('/api/anything'));
    expect(isApiError(caught)).toBe(true);
    return caught as unknown as ApiError;
  }

  it('turns problem+json into an ApiError with its field errors', () => {
    const error = failWith((req) =>
      req.flush(
        {
          type: 'https://batchlab.dev/problems/validation',
          title: 'Validation failed',
          status: 422,
          detail: 'The request body is invalid',
          errors: [{ field: 'payload.text', message: 'must not be empty' }],
        },
        { status: 422, statusText: 'Unprocessable Entity' },
      ),
    );
    expect(error).toEqual({
      kind: 'api-error',
      status: 422,
      type: 'https://batchlab.dev/problems/validation',
      title: 'Validation failed',
      detail: 'The request body is invalid',
      errors: [{ field: 'payload.text', message: 'must not be empty' }],
      retryAfterSeconds: null,
    });
  });

  it('reads Retry-After on 503', () => {
    const error = failWith((req) =>
      req.flush(
        { title: 'Service Unavailable', status: 503, detail: 'Broker down' },
        { status: 503, statusText: 'Service Unavailable', headers: new HttpHeaders({ 'Retry-After': '30' }) },
      ),
    );
    expect(error.status).toBe(503);
    expect(error.detail).toBe('Broker down');
    expect(error.retryAfterSeconds).toBe(30);
  });

  it('handles a non-problem error body', () => {
    const error = failWith((req) => req.flush('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    expect(error.status).toBe(502);
    expect(error.title).toBe('HTTP 502');
    expect(error.detail).toBe('Bad Gateway');
    expect(error.errors).toEqual([]);
  });

  it('handles a network failure as status 0', () => {
    const error = failWith((req) => req.error(new ProgressEvent('error')));
    expect(error.status).toBe(0);
    expect(error.title).toBe('Network error');
    expect(error.detail).toContain('could not be reached');
  });

  it('parses a problem sent as a JSON string', () => {
    const response = new HttpErrorResponse({
      status: 413,
      error: JSON.stringify({ title: 'Payload Too Large', status: 413, detail: 'Max 64 KB' }),
    });
    expect(toApiError(response).detail).toBe('Max 64 KB');
    expect(toApiError(toApiError(response))).toEqual(toApiError(response));
  });
});
