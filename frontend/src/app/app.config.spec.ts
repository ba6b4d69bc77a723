import { HttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { appConfig } from './app.config';
import { isApiError } from './core/models/problem.model';
import { ApiKeyService } from './core/services/api-key.service';

describe('appConfig HTTP interceptors', () => {
  let http: HttpClient;
  let httpMock: HttpTestingController;

  beforeEach(() => {
    localStorage.clear();
    TestBed.configureTestingModule({
      providers: [...appConfig.providers, provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpClient);
    httpMock = TestBed.inject(HttpTestingController);
  });

  afterEach(() => {
    httpMock.verify();
    localStorage.clear();
  });

  it('sends the stored API key and normalises errors to ApiError', () => {
    TestBed.inject(ApiKeyService).setApiKey('k3y');
    let caught: unknown = null;
    http.get('/api/jobs').subscribe({ error: (e: unknown) => (caught = e) });
    const req = httpMock.expectOne('/api/jobs');
    expect(req.request.headers.get('X-API-Key')).toBe('k3y');
    req.flush(
      { title: 'Unauthorized', status: 401, detail: 'bad key' },
      { status: 401, statusText: 'Unauthorized' },
    );
    expect(isApiError(caught)).toBe(true);
    expect((caught as { detail: string }).detail).toContain('rejected your API key');
  });
});
