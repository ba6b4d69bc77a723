import { HttpEventType, provideHttpClient, withInterceptors } from '@angular/common/http';
import {
  HttpTestingController,
  provideHttpClientTesting,
  TestRequest,
} from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';

import { BATCH_ID, makeBatch } from '../../../testing/batch-fixtures';
import { JOB_TYPES, problem } from '../../../testing/fixtures';
import { apiKeyInterceptor } from '../../core/interceptors/api-key.interceptor';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { BatchFormComponent } from './batch-form.component';
import { formatOf, parseItems } from './batch-form.validators';

describe('BatchFormComponent', () => {
  let fixture: ComponentFixture<BatchFormComponent>;
  let httpMock: HttpTestingController;
  let navigate: ReturnType<typeof vi.spyOn>;

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T | null =>
    el().querySelector<T>(`[data-testid="${id}"]`);
  const text = (id: string): string => byTestId(id)?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
  const settle = (): Promise<void> => fixture.whenStable();

  async function type(id: string, value: string): Promise<void> {
    const input = byTestId<HTMLInputElement | HTMLTextAreaElement>(id)!;
    input.value = value;
    input.dispatchEvent(new Event('input'));
    input.dispatchEvent(new Event('blur'));
    await settle();
  }

  async function click(id: string): Promise<void> {
    byTestId(id)!.click();
    await settle();
  }

  async function create(ownerId: string | null = 'alice'): Promise<void> {
    localStorage.clear();
    if (ownerId !== null) {
      localStorage.setItem('batchlab.ownerId', ownerId);
    }
    fixture = TestBed.createComponent(BatchFormComponent);
    await settle();
    if (ownerId !== null) {
      httpMock.expectOne('/api/job-types').flush(JOB_TYPES);
      await settle();
    }
  }

  function expectBatchPost(): TestRequest {
    return httpMock.expectOne((req) => req.method === 'POST' && req.url === '/api/batches');
  }

  beforeEach(() => {
    TestBed.configureTestingModule({
      imports: [BatchFormComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor, apiKeyInterceptor])),
        provideHttpClientTesting(),
        provideRouter([]),
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    navigate = vi.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
  });

  afterEach(() => {
    fixture.destroy();
    httpMock.verify();
    localStorage.clear();
  });

  it('asks for the owner id first', async () => {
    await create(null);
    expect(byTestId('owner-required')).not.toBeNull();
    expect(byTestId('submit-batch')).toBeNull();
    httpMock.match('/api/job-types');
  });

  it("fills the items with the type's example, one per line, and counts them", async () => {
    await create();
    expect(parseItems(byTestId<HTMLTextAreaElement>('batch-items')!.value)).toEqual([
      { text: 'hello world' },
      { text: 'hello world' },
      { text: 'hello world' },
    ]);
    expect(text('item-count')).toBe('3 item(s)');
  });

  it('refuses bad items before sending anything', async () => {
    await create();
    await type('batch-name', 'Hashes');
    const cases: [string, string][] = [
      ['[{"text": "a"', 'Invalid JSON'],
      ['{"text": "a"}', 'must be a JSON array'],
      ['[]', 'at least one item'],
      ['[{"text": "a"}, 42]', 'Item 2 is not a JSON object'],
      [JSON.stringify(Array.from({ length: 1001 }, () => ({ text: 'a' }))), 'at most 1000 inline'],
      [JSON.stringify([{ text: 'x'.repeat(1024 * 1024) }]), 'must be uploaded as a file'],
    ];
    for (const [items, message] of cases) {
      await type('batch-items', items);
      await click('submit-batch');
      expect(text('error-items')).toContain(message);
    }
    await type('batch-items', '[{"text": "a"}]');
    await type('batch-name', 'x'.repeat(91));
    expect(text('error-name')).toBe('At most 90 characters.');
    await type('batch-webhook', 'ftp://example.com/hook');
    expect(text('error-webhookUrl')).toBe('Must be an http:// or https:// URL.');
    httpMock.expectNone((req) => req.method === 'POST');
  });

  it('submits inline items and opens the batch page', async () => {
    await create();
    await type('batch-name', ' Hashes ');
    await type('batch-items', '[{"text": "a"}, {"text": "b"}]');
    await click('batch-all-or-nothing');
    await type('batch-webhook', 'https://example.com/hook');
    await click('submit-batch');
    const req = expectBatchPost();
    expect(req.request.body).toEqual({
      name: 'Hashes',
      type: 'text-stats',
      ownerId: 'alice',
      allOrNothing: true,
      webhookUrl: 'https://example.com/hook',
      items: [{ text: 'a' }, { text: 'b' }],
    });
    expect(req.request.headers.get('Idempotency-Key')).toMatch(/^[0-9a-f-]{36}$/);
    expect(text('submit-batch')).toBe('Submitting…');
    req.flush(makeBatch(), { status: 202, statusText: 'Accepted' });
    await settle();
    expect(navigate).toHaveBeenCalledWith(['/batches', BATCH_ID]);
  });

  it('lists the refused items by line number when the batch was created with some', async () => {
    await create();
    await type('batch-name', 'Hashes');
    await click('submit-batch');
    expectBatchPost().flush(
      makeBatch({
        invalid: {
          count: 2,
          items: [
            { line: 2, index: 1, errors: [{ field: 'text', message: 'Field required' }] },
            {
              line: 5,
              index: 4,
              errors: [{ field: 'text', message: 'Input should be a valid string' }],
            },
          ],
        },
      }),
    );
    await settle();
    expect(navigate).not.toHaveBeenCalled();
    expect(text('batch-created')).toContain('2 item(s) refused');
    const items = Array.from(el().querySelectorAll('[data-testid="invalid-item"]'));
    expect(items.map((i) => i.getAttribute('data-line'))).toEqual(['2', '5']);
    expect(items[0].textContent).toContain('Line 2');
    expect(items[0].textContent).toContain('Field required');
    expect(byTestId('open-batch')?.getAttribute('href')).toBe(`/batches/${BATCH_ID}`);
  });

  it('shows an all-or-nothing refusal (422) under the fields it names', async () => {
    await create();
    await type('batch-name', 'Hashes');
    await click('batch-all-or-nothing');
    await click('submit-batch');
    expectBatchPost().flush(
      problem(422, {
        title: 'Invalid items',
        detail: 'lines 2, 5 are invalid',
        errors: [
          { field: 'items[1].text', message: 'line 2: Field required' },
          { field: 'webhookUrl', message: 'must be https' },
          { field: 'ownerId', message: 'unknown owner' },
        ],
      }),
      { status: 422, statusText: 'Unprocessable Entity' },
    );
    await settle();
    expect(text('error-items[1].text')).toBe('line 2: Field required');
    expect(text('error-webhookUrl')).toBe('must be https');
    expect(text('form-error')).toContain('ownerId: unknown owner');
    expect(navigate).not.toHaveBeenCalled();
  });

  describe('file upload', () => {
    const S3 = 'http://127.0.0.1:4566/batchlab-data/uploads/alice/k/items.csv';
    const KEY = 'uploads/alice/k/items.csv';

    async function chooseFile(file: File | null): Promise<void> {
      const input = byTestId<HTMLInputElement>('batch-file')!;
      Object.defineProperty(input, 'files', {
        configurable: true,
        value: { length: file ? 1 : 0, item: () => file },
      });
      input.dispatchEvent(new Event('change'));
      await settle();
    }

    beforeEach(async () => {
      await create();
      await type('batch-name', 'From a file');
      await click('source-file');
    });

    it('requires a file, and reads its format from the name', async () => {
      expect(byTestId('batch-items')).toBeNull();
      await click('submit-batch');
      expect(text('error-file')).toBe('Choose a JSON Lines or CSV file.');
      httpMock.expectNone((req) => req.method === 'POST');
      await chooseFile(new File(['text\na\n'], 'items.csv', { type: 'text/csv' }));
      expect(byTestId<HTMLSelectElement>('batch-format')!.value).toBe('csv');
      await chooseFile(new File(['{"text":"a"}\n'], 'items.jsonl'));
      expect(byTestId<HTMLSelectElement>('batch-format')!.value).toBe('jsonl');
      expect(formatOf('ITEMS.CSV')).toBe('csv');
    });

    it('declares a JSON Lines file as application/x-ndjson (browsers give it no type)', async () => {
      await chooseFile(new File(['{"text":"a"}\n'], 'items.jsonl'));
      await click('submit-batch');
      const ask = httpMock.expectOne((r) => r.method === 'POST' && r.url === '/api/uploads');
      expect(ask.request.body.contentType).toBe('application/x-ndjson');
      ask.flush(problem(503), { status: 503, statusText: 'Service Unavailable' });
    });

    it('uploads the file with a progress bar, then submits the batch naming the object', async () => {
      const file = new File(['text\na\nb\n'], 'items.csv', { type: 'text/csv' });
      await chooseFile(file);
      expect(text('file-hint')).toContain('items.csv');
      await click('submit-batch');

      const ask = httpMock.expectOne((r) => r.method === 'POST' && r.url === '/api/uploads');
      expect(ask.request.body).toEqual({
        filename: 'items.csv',
        contentType: 'text/csv',
        size: file.size,
        ownerId: 'alice',
      });
      ask.flush({
        kind: 'single',
        key: KEY,
        method: 'PUT',
        headers: { 'Content-Type': 'text/csv' },
        expiresAt: '2026-01-01T11:00:00Z',
        url: `${S3}?X-Amz-Signature=x`,
        uploadId: null,
        partSize: null,
        parts: [],
        completeUrl: null,
      });
      await settle();
      const put = httpMock.expectOne((r) => r.method === 'PUT' && r.url.startsWith(S3));
      put.event({ type: HttpEventType.UploadProgress, loaded: 5, total: 10 });
      await settle();
      expect(byTestId('upload-progress')!.getAttribute('aria-valuenow')).toBe('50');
      expect(text('upload-status')).toContain('50%');
      expect(text('submit-batch')).toBe('Uploading…');
      httpMock.expectNone('/api/batches');

      put.flush('');
      await settle();
      const req = expectBatchPost();
      expect(req.request.body).toEqual({
        name: 'From a file',
        type: 'text-stats',
        ownerId: 'alice',
        allOrNothing: false,
        webhookUrl: null,
        object: KEY,
        format: 'csv',
      });
      // A failed submit is retried without uploading the file again.
      req.flush(problem(503, { title: 'Service Unavailable', detail: 'busy' }), {
        status: 503,
        statusText: 'x',
      });
      await settle();
      expect(text('form-error')).toContain('busy');
      await click('submit-batch');
      httpMock.expectNone('/api/uploads');
      expectBatchPost().flush(makeBatch());
      await settle();
      expect(navigate).toHaveBeenCalledWith(['/batches', BATCH_ID]);
    });
  });
});
