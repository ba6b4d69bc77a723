import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';

import { BATCH_ID, makeBatch, makeBatchSummary } from '../../../testing/batch-fixtures';
import { apiKeyInterceptor } from '../interceptors/api-key.interceptor';
import { problemInterceptor } from '../interceptors/problem.interceptor';
import { Batch, BatchPage, CreateBatchRequest } from '../models/batch.model';
import { ApiKeyService } from './api-key.service';
import { BatchApiService } from './batch-api.service';

describe('BatchApiService', () => {
  let httpMock: HttpTestingController;
  let api: BatchApiService;
  const base = {
    name: 'n',
    type: 'sha256',
    ownerId: 'alice',
    allOrNothing: false,
    webhookUrl: null,
  };

  beforeEach(() => {
    localStorage.clear();
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor, apiKeyInterceptor])),
        provideHttpClientTesting(),
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    api = TestBed.inject(BatchApiService);
  });

  afterEach(() => {
    httpMock.verify();
    localStorage.clear();
  });

  it('POSTs inline items to /api/batches with the Idempotency-Key', () => {
    let created: Batch | null = null;
    const body: CreateBatchRequest = { ...base, items: [{ text: 'a' }, { text: 'b' }] };
    api.createBatch(body, 'key-1').subscribe((batch) => (created = batch));
    const req = httpMock.expectOne('/api/batches');
    expect(req.request.method).toBe('POST');
    expect(req.request.body).toEqual(body);
    expect(req.request.headers.get('Idempotency-Key')).toBe('key-1');
    req.flush(makeBatch(), { status: 202, statusText: 'Accepted' });
    expect(created).toEqual(makeBatch());
  });

  it('POSTs an uploaded object with its format, and no key header when given none', () => {
    const body: CreateBatchRequest = {
      ...base,
      object: 'uploads/alice/k/items.csv',
      format: 'csv',
    };
    api.createBatch(body).subscribe();
    const req = httpMock.expectOne('/api/batches');
    expect(req.request.body).toEqual(body);
    expect(req.request.headers.has('Idempotency-Key')).toBe(false);
    req.flush(makeBatch());
  });

  it('GETs one batch by id, and lists them by owner with limit and cursor', () => {
    api.getBatch(BATCH_ID).subscribe();
    httpMock.expectOne({ method: 'GET', url: `/api/batches/${BATCH_ID}` }).flush(makeBatch());

    let page: BatchPage | null = null;
    api.listBatches({ ownerId: 'alice', limit: 5, cursor: null }).subscribe((p) => (page = p));
    const first = httpMock.expectOne((r) => r.url === '/api/batches' && r.method === 'GET');
    expect(first.request.params.get('ownerId')).toBe('alice');
    expect(first.request.params.get('limit')).toBe('5');
    expect(first.request.params.has('cursor')).toBe(false);
    first.flush({ items: [makeBatchSummary('b1')], nextCursor: 'c2' });
    expect(page!.nextCursor).toBe('c2');

    api.listBatches({ ownerId: 'alice', limit: 5, cursor: 'c2' }).subscribe();
    const second = httpMock.expectOne((r) => r.url === '/api/batches');
    expect(second.request.params.get('cursor')).toBe('c2');
    second.flush({ items: [], nextCursor: null });
  });

  it('POSTs cancel and retry-failed', () => {
    api.cancelBatch(BATCH_ID).subscribe();
    const cancel = httpMock.expectOne(`/api/batches/${BATCH_ID}/cancel`);
    expect(cancel.request.method).toBe('POST');
    cancel.flush(makeBatch({ status: 'CANCELLED' }));

    api.retryFailed(BATCH_ID).subscribe();
    const retry = httpMock.expectOne(`/api/batches/${BATCH_ID}/retry-failed`);
    expect(retry.request.method).toBe('POST');
    retry.flush(makeBatch());
  });

  it('reads the results as text: from the API while running, from S3 once ended', () => {
    TestBed.inject(ApiKeyService).setApiKey('tenant-key');
    let text = '';
    api.getResults(BATCH_ID).subscribe((t) => (text = t));
    const stream = httpMock.expectOne(`/api/batches/${BATCH_ID}/results`);
    expect(stream.request.responseType).toBe('text');
    expect(stream.request.headers.get('X-API-Key')).toBe('tenant-key');
    stream.flush('{"index":0}\n');
    expect(text).toBe('{"index":0}\n');

    const s3 = 'http://127.0.0.1:4566/bucket/batches/b/results.jsonl?X-Amz-Signature=x';
    api.getResults(BATCH_ID, s3).subscribe();
    const file = httpMock.expectOne(s3);
    // The presigned URL is its own authorisation: the API key never leaves for S3.
    expect(file.request.headers.has('X-API-Key')).toBe(false);
    file.flush('');
  });
});
