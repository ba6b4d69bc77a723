import {
  HttpEventType,
  HttpHeaders,
  provideHttpClient,
  withInterceptors,
} from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { apiKeyInterceptor } from '../interceptors/api-key.interceptor';
import { problemInterceptor } from '../interceptors/problem.interceptor';
import { UploadPlan, UploadProgress } from '../models/upload.model';
import { UploadApiService } from './upload-api.service';

const S3 = 'http://127.0.0.1:4566/batchlab-data/uploads/alice/k/data.csv';

function plan(overrides: Partial<UploadPlan> = {}): UploadPlan {
  return {
    kind: 'single',
    key: 'uploads/alice/k/data.csv',
    method: 'PUT',
    headers: { 'Content-Type': 'text/csv' },
    expiresAt: '2026-01-01T11:00:00Z',
    url: `${S3}?X-Amz-Signature=x`,
    uploadId: null,
    partSize: null,
    parts: [],
    completeUrl: null,
    ...overrides,
  };
}

describe('UploadApiService', () => {
  let service: UploadApiService;
  let httpMock: HttpTestingController;
  let seen: UploadProgress[];
  let failed: unknown;

  beforeEach(() => {
    localStorage.setItem('batchlab.apiKey', 'k3y');
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor, apiKeyInterceptor])),
        provideHttpClientTesting(),
      ],
    });
    service = TestBed.inject(UploadApiService);
    httpMock = TestBed.inject(HttpTestingController);
    seen = [];
    failed = null;
  });

  afterEach(() => {
    httpMock.verify();
    localStorage.clear();
  });

  function start(file: File): void {
    service.upload(file, 'alice').subscribe({
      next: (p) => seen.push(p),
      error: (e: unknown) => (failed = e),
    });
  }

  it('asks for a URL, PUTs the file to it with progress, then gives the key', () => {
    const file = new File(['a,b\n1,2\n'], 'data.csv', { type: 'text/csv' });
    start(file);
    const ask = httpMock.expectOne((r) => r.method === 'POST' && r.url === '/api/uploads');
    expect(ask.request.body).toEqual({
      filename: 'data.csv',
      contentType: 'text/csv',
      size: 8,
      ownerId: 'alice',
    });
    ask.flush(plan(), { status: 201, statusText: 'Created' });

    const put = httpMock.expectOne((r) => r.method === 'PUT' && r.url.startsWith(S3));
    expect(put.request.body).toBe(file);
    expect(put.request.headers.get('Content-Type')).toBe('text/csv');
    // The API key goes to the API only, never to S3.
    expect(put.request.headers.has('X-API-Key')).toBe(false);
    expect(put.request.reportProgress).toBe(true);
    put.event({ type: HttpEventType.UploadProgress, loaded: 4, total: 8 });
    expect(seen).toEqual([{ loaded: 4, total: 8, key: null }]);
    put.flush('', { status: 200, statusText: 'OK' });
    expect(seen.at(-1)).toEqual({ loaded: 8, total: 8, key: 'uploads/alice/k/data.csv' });
    expect(failed).toBeNull();
  });

  it('sends an unknown file type as text/csv', () => {
    start(new File(['x'], 'data.txt', { type: '' }));
    const ask = httpMock.expectOne('/api/uploads');
    expect(ask.request.body.contentType).toBe('text/csv');
    ask.flush(plan());
    httpMock.expectOne((r) => r.method === 'PUT').flush('');
  });

  it('uploads a multipart plan part by part, sums the progress and completes with the ETags', () => {
    const file = new File(['0123456789'], 'big.csv', { type: 'text/csv' });
    start(file);
    httpMock.expectOne('/api/uploads').flush(
      plan({
        kind: 'multipart',
        url: null,
        uploadId: 'up1',
        partSize: 6,
        parts: [
          { partNumber: 1, url: `${S3}?partNumber=1`, size: 6 },
          { partNumber: 2, url: `${S3}?partNumber=2`, size: 4 },
        ],
        completeUrl: '/api/uploads/up1/complete',
      }),
    );
    const first = httpMock.expectOne(`${S3}?partNumber=1`);
    const second = httpMock.expectOne(`${S3}?partNumber=2`);
    expect((first.request.body as Blob).size).toBe(6);
    expect((second.request.body as Blob).size).toBe(4);

    first.event({ type: HttpEventType.UploadProgress, loaded: 3, total: 6 });
    second.event({ type: HttpEventType.UploadProgress, loaded: 2, total: 4 });
    expect(seen.at(-1)).toEqual({ loaded: 5, total: 10, key: null });
    second.flush('', { headers: new HttpHeaders({ ETag: '"e2"' }) });
    first.flush('', { headers: new HttpHeaders({ ETag: '"e1"' }) });
    expect(seen.at(-1)).toEqual({ loaded: 10, total: 10, key: null });

    const complete = httpMock.expectOne('/api/uploads/up1/complete');
    expect(complete.request.method).toBe('POST');
    expect(complete.request.headers.get('X-API-Key')).toBe('k3y');
    expect(complete.request.body).toEqual({
      key: 'uploads/alice/k/data.csv',
      parts: [
        { partNumber: 1, etag: '"e1"' },
        { partNumber: 2, etag: '"e2"' },
      ],
    });
    complete.flush({ key: 'uploads/alice/k/data.csv', size: 10 });
    expect(seen.at(-1)).toEqual({ loaded: 10, total: 10, key: 'uploads/alice/k/data.csv' });
  });

  it('fails when S3 refuses the PUT', () => {
    start(new File(['x'], 'a.csv', { type: 'text/csv' }));
    httpMock.expectOne('/api/uploads').flush(plan());
    httpMock
      .expectOne((r) => r.method === 'PUT')
      .flush('<Error/>', { status: 403, statusText: 'Forbidden' });
    expect(failed).toMatchObject({ kind: 'api-error', status: 403 });
  });
});
