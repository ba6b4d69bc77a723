import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { problem } from '../../../testing/fixtures';
import { ApiError, isApiError } from '../models/problem.model';
import { ApiKeyService } from '../services/api-key.service';
import { API_KEY_REQUIRED_TITLE, apiKeyInterceptor } from './api-key.interceptor';
import { problemInterceptor } from './problem.interceptor';

describe('apiKeyInterceptor', () => {
  let http: HttpClient;
  let httpMock: HttpTestingController;

  function setUp(): void {
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor, apiKeyInterceptor])),
        provideHttpClientTesting(),
      ],
    });
    http = TestBed.inject(HttpClient);
    httpMock = TestBed.inject(HttpTestingController);
  }

  beforeEach(() => localStorage.clear());

  afterEach(() => {
    httpMock.verify();
    localStorage.clear();
  });

  it('sends no X-API-Key while no key is stored', () => {
    setUp();
    http.get('/api/jobs').subscribe();
    const req = httpMock.expectOne('/api/jobs');
    expect(req.request.headers.has('X-API-Key')).toBe(false);
    req.flush({ items: [], nextCursor: null });
  });

  it('adds X-API-Key to API requests once a key is stored', () => {
    localStorage.setItem('batchlab.apiKey', 'from-storage');
    setUp();
    http.get('/api/jobs').subscribe();
    const stored = httpMock.expectOne('/api/jobs');
    expect(stored.request.headers.get('X-API-Key')).toBe('from-storage');
    stored.flush({});

    TestBed.inject(ApiKeyService).setApiKey('typed-key');
    http.post('/api/jobs', {}).subscribe();
    const typed = httpMock.expectOne('/api/jobs');
    expect(typed.request.headers.get('X-API-Key')).toBe('typed-key');
    typed.flush({});

    TestBed.inject(ApiKeyService).clearApiKey();
    http.get('/api/cost').subscribe();
    const cleared = httpMock.expectOne('/api/cost');
    expect(cleared.request.headers.has('X-API-Key')).toBe(false);
    cleared.flush({});
  });

  it('never sends the key to other hosts', () => {
    localStorage.setItem('batchlab.apiKey', 'secret');
    setUp();
    http.get('https://example.com/api/jobs').subscribe();
    http.get('/apiary').subscribe();
    for (const url of ['https://example.com/api/jobs', '/apiary']) {
      const req = httpMock.expectOne(url);
      expect(req.request.headers.has('X-API-Key')).toBe(false);
      req.flush({});
    }
  });

  function fail401(): ApiError {
    let caught: unknown = null;
    http.get('/api/jobs').subscribe({ error: (e: unknown) => (caught = e) });
    httpMock
      .expectOne('/api/jobs')
      .flush(
        problem(401, { title: 'Unauthorized', detail: 'a valid X-API-Key header is required' }),
        {
          status: 401,
          statusText: 'Unauthorized',
        },
      );
    expect(isApiError(caught)).toBe(true);
    return caught as unknown as ApiError;
  }

  it('turns a 401 into a message asking for an API key', () => {
    setUp();
    const error = fail401();
    expect(error.status).toBe(401);
    expect(error.title).toBe(API_KEY_REQUIRED_TITLE);
    expect(error.detail).toContain('requires an API key');
    expect(error.detail).toContain('"API key" box');
    expect(TestBed.inject(ApiKeyService).keyRequired()).toBe(true);
  });

  it('says the key was rejected when one was sent', () => {
    localStorage.setItem('batchlab.apiKey', 'wrong');
    setUp();
    expect(fail401().detail).toContain('rejected your API key');
  });

  it('leaves other errors alone', () => {
    setUp();
    let caught: unknown = null;
    http.get('/api/jobs').subscribe({ error: (e: unknown) => (caught = e) });
    httpMock
      .expectOne('/api/jobs')
      .flush(problem(403, { detail: 'owner mismatch' }), { status: 403, statusText: 'Forbidden' });
    expect((caught as unknown as ApiError).detail).toBe('owner mismatch');
    expect(TestBed.inject(ApiKeyService).keyRequired()).toBe(false);
  });
});
