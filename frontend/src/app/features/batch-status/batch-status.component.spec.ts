import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';

import {
  BATCH_ID,
  makeBatch,
  makeEndedBatch,
  ManualPolling,
} from '../../../testing/batch-fixtures';
import { problem } from '../../../testing/fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { PollingService } from '../../core/services/polling.service';
import { BatchStatusComponent } from './batch-status.component';
import { formatDuration } from './duration';

const BATCH_URL = `/api/batches/${BATCH_ID}`;

describe('BatchStatusComponent', () => {
  let fixture: ComponentFixture<BatchStatusComponent>;
  let httpMock: HttpTestingController;
  let polling: ManualPolling;

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const byTestId = (id: string): HTMLElement | null => el().querySelector(`[data-testid="${id}"]`);
  const all = (id: string): HTMLElement[] =>
    Array.from(el().querySelectorAll(`[data-testid="${id}"]`));
  const text = (id: string): string => byTestId(id)?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
  const settle = (): Promise<void> => fixture.whenStable();
  const count = (status: string): string =>
    byTestId(`count-${status}`)?.querySelector('.count-value')?.textContent?.trim() ?? '';

  async function click(id: string): Promise<void> {
    byTestId(id)!.click();
    await settle();
  }

  /** One polling tick: exactly one GET of the batch (verify() fails on any other request). */
  async function tick(): Promise<void> {
    polling.tick();
    await settle();
  }

  beforeEach(async () => {
    TestBed.configureTestingModule({
      imports: [BatchStatusComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        provideRouter([]),
        { provide: PollingService, useClass: ManualPolling },
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    polling = TestBed.inject(PollingService) as unknown as ManualPolling;
    fixture = TestBed.createComponent(BatchStatusComponent);
    fixture.componentRef.setInput('id', BATCH_ID);
    await settle();
  });

  afterEach(() => {
    fixture.destroy();
    httpMock.verify();
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('shows progress, counts per status, throughput, ETA and the failed children', async () => {
    httpMock.expectOne(BATCH_URL).flush(makeBatch());
    await settle();
    expect(byTestId('batch-status')?.getAttribute('data-status')).toBe('RUNNING');
    expect(byTestId('batch-progress')?.getAttribute('aria-valuenow')).toBe('38');
    expect(text('batch-progress-text')).toBe('38%');
    expect(text('batch-finished')).toBe('760 of 2,000 item(s) finished.');
    expect(count('QUEUED')).toBe('1,200');
    expect(count('PROCESSING')).toBe('40');
    expect(count('COMPLETED')).toBe('700');
    expect(count('FAILED')).toBe('60');
    expect(count('CANCELLED')).toBe('0');
    expect(text('batch-throughput')).toBe('12.5 jobs/s');
    expect(text('batch-eta')).toBe('1 min 39 s');
    const failures = all('failure-row');
    expect(failures.map((f) => f.getAttribute('data-index'))).toEqual(['7', '19']);
    expect(failures[0].textContent).toContain('ValueError: simulated failure');
    expect(failures[0].querySelector('a')?.getAttribute('href')).toBe('/jobs/job-7');
    expect(text('more-failures')).toContain('58 more');
    expect(text('retry-failed')).toBe('Retry 60 failed');
    expect(byTestId('cancel-batch')).not.toBeNull();
    expect(text('download-results')).toBe('Download results so far');
  });

  it('polls with ONE request per tick for the whole page and stops once the batch ended', async () => {
    httpMock.expectOne(BATCH_URL).flush(makeBatch());
    await tick();
    httpMock.expectOne(BATCH_URL).flush(makeBatch({ progress: 70 }));
    await settle();
    expect(text('batch-progress-text')).toBe('70%');
    expect(text('poll-note')).toContain('Refreshing every 5 s');

    await tick();
    httpMock.expectOne(BATCH_URL).flush(makeEndedBatch());
    await settle();
    expect(byTestId('batch-status')?.getAttribute('data-status')).toBe('COMPLETED_WITH_FAILURES');
    expect(text('poll-note')).toBe('The batch has ended, no more updates.');
    expect(text('batch-eta')).toBe('—');
    expect(byTestId('cancel-batch')).toBeNull();
    expect(polling.active).toBe(0);
    await tick();
    httpMock.expectNone(BATCH_URL);
  });

  it('says when the file is still being read (total unknown)', async () => {
    httpMock.expectOne(BATCH_URL).flush(
      makeBatch({
        total: null,
        ingested: 300,
        progress: 0,
        counts: { QUEUED: 300, PROCESSING: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0 },
        failures: [],
      }),
    );
    await settle();
    expect(text('batch-finished')).toBe('Reading the file… 300 item(s) so far.');
    expect(byTestId('no-failures')).not.toBeNull();
    expect(byTestId('retry-failed')).toBeNull();
  });

  it('lists invalid items with their line numbers', async () => {
    httpMock.expectOne(BATCH_URL).flush(
      makeBatch({
        invalid: {
          count: 2,
          items: [
            { line: 3, index: 2, errors: [{ field: 'text', message: 'Field required' }] },
            {
              line: 9,
              index: 8,
              errors: [{ field: 'text', message: 'Input should be a valid string' }],
            },
          ],
        },
      }),
    );
    await settle();
    const items = all('invalid-item');
    expect(items.map((i) => i.getAttribute('data-line'))).toEqual(['3', '9']);
    expect(items[0].textContent).toContain('Line 3');
    expect(items[0].textContent).toContain('Field required');
  });

  it('cancels only after a confirmation, then stops polling', async () => {
    httpMock.expectOne(BATCH_URL).flush(makeBatch());
    await settle();
    await click('cancel-batch');
    expect(text('confirm-cancel')).toContain('1,200 queued job(s) will never run');
    expect(document.activeElement).toBe(byTestId('confirm-cancel-no'));
    httpMock.expectNone(`${BATCH_URL}/cancel`);
    await click('confirm-cancel-no');
    expect(byTestId('confirm-cancel')).toBeNull();
    expect(document.activeElement).toBe(byTestId('cancel-batch'));
    httpMock.expectNone(`${BATCH_URL}/cancel`);

    await click('cancel-batch');
    await click('confirm-cancel-yes');
    const req = httpMock.expectOne(`${BATCH_URL}/cancel`);
    expect(req.request.method).toBe('POST');
    req.flush(makeBatch({ status: 'CANCELLED', progress: 100 }));
    await settle();
    expect(byTestId('batch-status')?.getAttribute('data-status')).toBe('CANCELLED');
    expect(byTestId('cancel-batch')).toBeNull();
    expect(polling.active).toBe(0);
    await tick();
    httpMock.expectNone(BATCH_URL);
  });

  it('retries the failed children of an ended batch and polls again', async () => {
    httpMock.expectOne(BATCH_URL).flush(makeEndedBatch());
    await settle();
    expect(polling.active).toBe(0);
    await click('retry-failed');
    const req = httpMock.expectOne(`${BATCH_URL}/retry-failed`);
    expect(req.request.method).toBe('POST');
    req.flush(
      makeBatch({
        counts: { QUEUED: 60, PROCESSING: 0, COMPLETED: 1940, FAILED: 0, CANCELLED: 0 },
        progress: 97,
        failures: [],
      }),
    );
    await settle();
    expect(count('FAILED')).toBe('0');
    expect(count('QUEUED')).toBe('60');
    expect(byTestId('retry-failed')).toBeNull();
    // Polling resumes (its first request at once), one request per tick as before.
    httpMock.expectOne(BATCH_URL).flush(makeBatch({ failures: [] }));
    await tick();
    httpMock.expectOne(BATCH_URL).flush(makeEndedBatch({ status: 'COMPLETED', failures: [] }));
    await settle();
    expect(polling.active).toBe(0);
  });

  it('shows a refused action (409) and reads the batch again', async () => {
    httpMock.expectOne(BATCH_URL).flush(makeEndedBatch());
    await settle();
    await click('retry-failed');
    httpMock
      .expectOne(`${BATCH_URL}/retry-failed`)
      .flush(problem(409, { title: 'Conflict', detail: 'Nothing to retry' }), {
        status: 409,
        statusText: 'Conflict',
      });
    await settle();
    expect(text('action-error')).toBe('Could not retry the failed jobs: Nothing to retry');
    httpMock.expectOne(BATCH_URL).flush(
      makeEndedBatch({
        counts: { QUEUED: 0, PROCESSING: 0, COMPLETED: 2000, FAILED: 0, CANCELLED: 0 },
      }),
    );
    await settle();
    expect(byTestId('retry-failed')).toBeNull();
  });

  it('downloads the results: the API stream while running, the S3 file once ended', async () => {
    const created: Blob[] = [];
    const createObjectURL = vi.fn((blob: Blob) => {
      created.push(blob);
      return 'blob:results';
    });
    vi.stubGlobal(
      'URL',
      Object.assign(globalThis.URL, { createObjectURL, revokeObjectURL: vi.fn() }),
    );
    const clicks: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      clicks.push(this.download);
    });

    httpMock.expectOne(BATCH_URL).flush(makeBatch());
    await settle();
    await click('download-results');
    const stream = httpMock.expectOne(`${BATCH_URL}/results`);
    stream.flush('{"index":0,"jobId":"j0","status":"QUEUED"}\n');
    await settle();
    expect(clicks).toEqual([`${BATCH_ID}-results.jsonl`]);
    expect(await created[0].text()).toContain('"index":0');

    await tick();
    const ended = makeEndedBatch();
    httpMock.expectOne(BATCH_URL).flush(ended);
    await settle();
    expect(text('download-results')).toBe('Download results');
    await click('download-results');
    httpMock.expectOne(ended.resultsUrl!).flush('{"index":0}\n{"index":1}\n');
    await settle();
    expect(clicks).toHaveLength(2);
  });

  it('shows a clear message for an unknown id and keeps polling', async () => {
    httpMock
      .expectOne(BATCH_URL)
      .flush(problem(404, { title: 'Not Found', detail: 'No such batch' }), {
        status: 404,
        statusText: 'Not Found',
      });
    await settle();
    expect(text('batch-load-error')).toContain(`Batch “${BATCH_ID}” was not found`);
    await tick();
    httpMock.expectOne(BATCH_URL).flush(makeBatch());
    await settle();
    expect(byTestId('batch-load-error')).toBeNull();
  });
});

describe('formatDuration', () => {
  it('reads as seconds, minutes or hours', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(44.6)).toBe('45 s');
    expect(formatDuration(120)).toBe('2 min');
    expect(formatDuration(3 * 3600 + 5 * 60 + 9)).toBe('3 h 05 min');
  });
});
