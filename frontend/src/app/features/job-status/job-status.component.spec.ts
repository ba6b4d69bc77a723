import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { Title } from '@angular/platform-browser';

import {
  JOB_ID,
  makeJob,
  problem,
  setDocumentVisibility,
  useFakeIntervals,
} from '../../../testing/fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { POLL_BACKOFF_MS, POLL_INTERVAL_MS } from '../../core/services/polling.service';
import { JobStatusComponent } from './job-status.component';

const URL = `/api/jobs/${JOB_ID}`;
const INTERVAL = 1000;

describe('JobStatusComponent', () => {
  let fixture: ComponentFixture<JobStatusComponent>;
  let httpMock: HttpTestingController;

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const byTestId = (id: string): HTMLElement | null => el().querySelector(`[data-testid="${id}"]`);
  const text = (id: string): string => byTestId(id)?.textContent?.trim() ?? '';

  async function settle(): Promise<void> {
    await fixture.whenStable();
  }

  async function advance(ms: number): Promise<void> {
    vi.advanceTimersByTime(ms);
    await settle();
  }

  beforeEach(async () => {
    useFakeIntervals();
    setDocumentVisibility('visible');
    TestBed.configureTestingModule({
      imports: [JobStatusComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        provideRouter([]),
        { provide: POLL_INTERVAL_MS, useValue: INTERVAL },
        // The fast start has its own tests below; these count requests per interval.
        { provide: POLL_BACKOFF_MS, useValue: [] },
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(JobStatusComponent);
    fixture.componentRef.setInput('id', JOB_ID);
    await settle();
  });

  afterEach(() => {
    fixture.destroy();
    httpMock.verify();
    vi.useRealTimers();
  });

  it('shows the job: badge, id, attempts, timeline', async () => {
    httpMock.expectOne(URL).flush(
      makeJob({
        status: 'PROCESSING',
        attempts: 2,
        progress: 40,
        history: [
          { status: 'QUEUED', at: '2026-01-01T10:00:00Z', note: null },
          { status: 'PROCESSING', at: '2026-01-01T10:00:01Z', note: null },
          { status: 'QUEUED', at: '2026-01-01T10:00:05Z', note: 'retry 1: worker lost' },
          { status: 'PROCESSING', at: '2026-01-01T10:00:09Z', note: null },
        ],
      }),
    );
    await settle();
    expect(byTestId('job-status')?.textContent).toBe('PROCESSING');
    expect(byTestId('job-status')?.classList).toContain('status-processing');
    expect(text('job-id')).toBe(JOB_ID);
    expect(text('job-attempts')).toBe('2 / 3');
    const entries = Array.from(
      byTestId('job-timeline')!.querySelectorAll('[data-testid="timeline-entry"]'),
    );
    expect(entries.map((e) => e.getAttribute('data-status'))).toEqual([
      'QUEUED',
      'PROCESSING',
      'QUEUED',
      'PROCESSING',
    ]);
    expect(entries[2].textContent).toContain('retry 1: worker lost');
    expect(byTestId('job-progress')?.getAttribute('aria-valuenow')).toBe('40');
    expect(byTestId('cancel-job')).not.toBeNull();
  });

  it('polls every interval and stops at a terminal status', async () => {
    httpMock.expectOne(URL).flush(makeJob({ status: 'QUEUED' }));
    await advance(INTERVAL);
    httpMock.expectOne(URL).flush(makeJob({ status: 'PROCESSING', attempts: 1, progress: 50 }));
    await settle();
    expect(text('job-status')).toBe('PROCESSING');

    await advance(INTERVAL);
    httpMock
      .expectOne(URL)
      .flush(makeJob({ status: 'COMPLETED', attempts: 1, progress: 100, result: { words: 2 } }));
    await settle();
    expect(text('job-status')).toBe('COMPLETED');
    expect(JSON.parse(text('job-result'))).toEqual({ words: 2 });
    expect(byTestId('cancel-job')).toBeNull();
    expect(byTestId('job-progress')).toBeNull();

    await advance(INTERVAL * 10);
    httpMock.expectNone(URL);
  });

  it('shows the error of a FAILED job and stops polling', async () => {
    httpMock
      .expectOne(URL)
      .flush(makeJob({ status: 'FAILED', attempts: 3, error: 'ValueError: boom' }));
    await settle();
    expect(text('job-error')).toBe('ValueError: boom');
    expect(byTestId('job-result')).toBeNull();
    await advance(INTERVAL * 5);
    httpMock.expectNone(URL);
  });

  it('keeps polling after a network error and recovers', async () => {
    httpMock.expectOne(URL).flush(makeJob({ status: 'QUEUED' }));
    await advance(INTERVAL);
    httpMock.expectOne(URL).error(new ProgressEvent('error'));
    await settle();
    expect(text('job-load-error')).toContain('Cannot reach the server');
    expect(text('job-status')).toBe('QUEUED');

    await advance(INTERVAL);
    httpMock.expectOne(URL).flush(makeJob({ status: 'PROCESSING' }));
    await settle();
    expect(byTestId('job-load-error')).toBeNull();
    expect(text('job-status')).toBe('PROCESSING');
  });

  const notFound = (): Record<string, unknown> => ({ status: 404, statusText: 'Not Found' });

  it('shows not-found for an unknown id (404), asks once more, then stops polling', async () => {
    httpMock.expectOne(URL).flush(problem(404, { detail: 'No such job' }), notFound());
    await settle();
    expect(el().querySelector('h1')?.textContent).toBe('Job not found');
    expect(text('not-found')).toContain(`There is no job “${JOB_ID}”`);
    expect(byTestId('job-load-error')).toBeNull();
    expect(byTestId('job-loading')).toBeNull();
    expect(byTestId('job-status')).toBeNull();

    await advance(INTERVAL);
    httpMock.expectOne(URL).flush(problem(404, { detail: 'No such job' }), notFound());
    await advance(INTERVAL * 5);
    httpMock.expectNone(URL);
    expect(text('not-found')).toContain('There is no job');
  });

  it('shows a job that a second read finds (the first read is eventually consistent)', async () => {
    httpMock.expectOne(URL).flush(problem(404), notFound());
    await advance(INTERVAL);
    httpMock.expectOne(URL).flush(makeJob());
    await settle();
    expect(byTestId('not-found')).toBeNull();
    expect(text('job-status')).toBe('QUEUED');
    await advance(INTERVAL);
    httpMock.expectOne(URL).flush(makeJob());
  });

  it('keeps polling through other errors', async () => {
    httpMock.expectOne(URL).flush(problem(500), { status: 500, statusText: 'Server Error' });
    await settle();
    expect(text('job-load-error')).toContain('Retrying every 1 s');
    expect(byTestId('not-found')).toBeNull();
    await advance(INTERVAL);
    httpMock.expectOne(URL).flush(makeJob());
    await settle();
    expect(byTestId('job-load-error')).toBeNull();
    expect(text('job-status')).toBe('QUEUED');
  });

  it('stops at once on a malformed id (422) and says what a job id looks like', async () => {
    fixture.componentRef.setInput('id', 'not-a-uuid');
    await settle();
    httpMock.match(URL); // the first id's poll, cancelled by the switch
    httpMock
      .expectOne('/api/jobs/not-a-uuid')
      .flush(problem(422, { detail: 'malformed id' }), { status: 422, statusText: 'Unprocessable' });
    await settle();
    expect(text('not-found')).toContain('“not-a-uuid” is not a job id');
    await advance(INTERVAL * 5);
    httpMock.expectNone('/api/jobs/not-a-uuid');
  });

  it('cancels a running job and stops polling', async () => {
    httpMock.expectOne(URL).flush(makeJob({ status: 'PROCESSING' }));
    await settle();
    byTestId('cancel-job')!.click();
    await settle();
    httpMock.expectNone(`${URL}/cancel`);
    byTestId('cancel-confirm-yes')!.click();
    await settle();
    const req = httpMock.expectOne(`${URL}/cancel`);
    expect(req.request.method).toBe('POST');
    expect((byTestId('cancel-job') as HTMLButtonElement).disabled).toBe(true);
    req.flush(
      makeJob({
        status: 'CANCELLED',
        history: [
          { status: 'QUEUED', at: '2026-01-01T10:00:00Z', note: null },
          { status: 'CANCELLED', at: '2026-01-01T10:00:03Z', note: 'cancelled by user' },
        ],
      }),
    );
    await settle();
    expect(text('job-status')).toBe('CANCELLED');
    expect(byTestId('cancel-job')).toBeNull();
    await advance(INTERVAL * 5);
    httpMock.expectNone(URL);
  });

  it('shows the conflict when the job finished before the cancel', async () => {
    httpMock.expectOne(URL).flush(makeJob({ status: 'PROCESSING' }));
    await settle();
    byTestId('cancel-job')!.click();
    await settle();
    byTestId('cancel-confirm-yes')!.click();
    await settle();
    httpMock
      .expectOne(`${URL}/cancel`)
      .flush(problem(409, { title: 'Conflict', detail: 'Job is already COMPLETED' }), {
        status: 409,
        statusText: 'Conflict',
      });
    await settle();
    expect(text('cancel-error')).toContain('Job is already COMPLETED');
    httpMock.expectOne(URL).flush(makeJob({ status: 'COMPLETED', result: {} }));
    await settle();
    expect(text('job-status')).toBe('COMPLETED');
  });

  it('pauses polling while the tab is hidden', async () => {
    httpMock.expectOne(URL).flush(makeJob());
    setDocumentVisibility('hidden');
    await advance(INTERVAL * 5);
    httpMock.expectNone(URL);
    setDocumentVisibility('visible');
    httpMock.expectOne(URL).flush(makeJob());
  });

  it('stops polling when destroyed', async () => {
    httpMock.expectOne(URL).flush(makeJob());
    fixture.destroy();
    vi.advanceTimersByTime(INTERVAL * 5);
    httpMock.expectNone(URL);
  });

  it('downloads an inline result as a JSON file', async () => {
    const createObjectURL = vi.fn(() => 'blob:result');
    const revokeObjectURL = vi.fn();
    vi.stubGlobal('URL', Object.assign(globalThis.URL, { createObjectURL, revokeObjectURL }));
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    httpMock.expectOne(URL).flush(makeJob({ status: 'COMPLETED', result: { words: 2 } }));
    await settle();
    const button = byTestId('download-result') as HTMLButtonElement;
    expect(button.tagName).toBe('BUTTON');
    expect(button.textContent?.trim()).toBe('Download result');
    button.click();
    expect(createObjectURL).toHaveBeenCalledTimes(1);
    const blob = (createObjectURL.mock.calls[0] as unknown as [Blob])[0];
    expect(JSON.parse(await blob.text())).toEqual({ words: 2 });
    const link = click.mock.instances[0] as unknown as HTMLAnchorElement;
    expect(link.download).toBe(`${JOB_ID}-result.json`);
    expect(revokeObjectURL).toHaveBeenCalledWith('blob:result');
    click.mockRestore();
    vi.unstubAllGlobals();
  });

  it('links "Download result" to the presigned URL of a result kept in S3', async () => {
    const url = 'http://s3.local/batchlab-data/jobs/x/result-1.json?X-Amz-Signature=abc';
    httpMock
      .expectOne(URL)
      .flush(makeJob({ status: 'COMPLETED', result: null, resultUrl: url, resultBytes: 1048586 }));
    await settle();
    const link = byTestId('download-result') as HTMLAnchorElement;
    expect(link.tagName).toBe('A');
    expect(link.href).toBe(url);
    expect(link.getAttribute('download')).toBe(`${JOB_ID}-result.json`);
    expect(byTestId('job-result')).toBeNull();
    expect(text('result-apart')).toContain('1,048,586 bytes');
  });

  it('offers no download before the job has a result', async () => {
    httpMock.expectOne(URL).flush(makeJob({ status: 'PROCESSING' }));
    await settle();
    expect(byTestId('download-result')).toBeNull();
  });

  it('loads a payload kept apart from the job on request', async () => {
    httpMock
      .expectOne(URL)
      .flush(makeJob({ status: 'COMPLETED', payload: null, payloadBytes: 61440 }));
    await settle();
    expect(byTestId('job-payload-json')).toBeNull();
    (byTestId('load-payload') as HTMLButtonElement).click();
    httpMock.expectOne(`${URL}/payload`).flush({ text: 'big' });
    await settle();
    expect(JSON.parse(text('job-payload-json'))).toEqual({ text: 'big' });
  });

  it('says how many earlier transitions were not kept', async () => {
    httpMock.expectOne(URL).flush(makeJob({ status: 'QUEUED', historyCount: 5 }));
    await settle();
    expect(text('earlier-transitions')).toBe('4 earlier transition(s) not kept.');
  });

  describe('actions and times (issue 15)', () => {
    it('asks before cancelling; "Keep it" sends nothing', async () => {
      httpMock.expectOne(URL).flush(makeJob({ status: 'QUEUED' }));
      await settle();
      byTestId('cancel-job')!.click();
      await settle();
      expect(byTestId('cancel-confirm')?.textContent).toContain('Cancel this job?');
      expect(document.activeElement).toBe(byTestId('cancel-confirm-no'));
      expect(byTestId('cancel-job')).toBeNull();
      byTestId('cancel-confirm-no')!.click();
      await settle();
      expect(byTestId('cancel-confirm')).toBeNull();
      expect(byTestId('cancel-job')).not.toBeNull();
      httpMock.expectNone(`${URL}/cancel`);
    });

    it.each(['FAILED', 'CANCELLED'] as const)(
      'retries a %s job and polls it again',
      async (status) => {
        httpMock
          .expectOne(URL)
          .flush(makeJob({ status, attempts: 3, error: status === 'FAILED' ? 'boom' : null }));
        await settle();
        await advance(INTERVAL * 3);
        httpMock.expectNone(URL);
        expect(byTestId('cancel-job')).toBeNull();
        byTestId('retry-job')!.click();
        await settle();
        const req = httpMock.expectOne(`${URL}/retry`);
        expect(req.request.method).toBe('POST');
        req.flush(makeJob({ status: 'QUEUED', attempts: 0 }));
        await settle();
        expect(text('job-status')).toBe('QUEUED');
        expect(byTestId('retry-job')).toBeNull();
        // Polling starts again (it had stopped at the terminal status).
        httpMock.expectOne(URL).flush(makeJob({ status: 'PROCESSING' }));
        await advance(INTERVAL);
        httpMock.expectOne(URL).flush(makeJob({ status: 'COMPLETED', result: {} }));
        await settle();
        expect(text('job-status')).toBe('COMPLETED');
        await advance(INTERVAL * 3);
        httpMock.expectNone(URL);
      },
    );

    it('offers no Retry for a COMPLETED job, and shows a refused retry', async () => {
      httpMock.expectOne(URL).flush(makeJob({ status: 'FAILED' }));
      await settle();
      byTestId('retry-job')!.click();
      await settle();
      httpMock
        .expectOne(`${URL}/retry`)
        .flush(problem(409, { detail: 'Job is QUEUED' }), { status: 409, statusText: 'Conflict' });
      await settle();
      expect(text('retry-error')).toContain('Job is QUEUED');
      httpMock.expectOne(URL).flush(makeJob({ status: 'COMPLETED', result: {} }));
      await settle();
      expect(byTestId('retry-job')).toBeNull();
    });

    it('links Re-run of a finished job to the pre-filled form', async () => {
      httpMock.expectOne(URL).flush(makeJob({ status: 'COMPLETED', result: {} }));
      await settle();
      expect(byTestId('rerun-job')?.getAttribute('href')).toBe(`/new?from=${JOB_ID}`);
    });

    it('shows queue wait, run time, the attempt of Started, and relative times with the zone', async () => {
      httpMock.expectOne(URL).flush(
        makeJob({
          status: 'COMPLETED',
          createdAt: '2026-01-01T10:00:00Z',
          startedAt: '2026-01-01T10:00:02Z',
          finishedAt: '2026-01-01T10:00:02.060Z',
          attempts: 2,
          startedAttempt: 2,
          queueWaitMs: 1200,
          runMs: 60,
          result: {},
        }),
      );
      await settle();
      expect(text('job-queue-wait')).toBe('1.2 s');
      expect(text('job-run-time')).toBe('60 ms');
      expect(text('job-started-attempt')).toContain('attempt 2 of 3');
      const created = byTestId('job-created')!.querySelector('time')!;
      expect(created.getAttribute('datetime')).toBe('2026-01-01T10:00:00Z');
      expect(created.textContent).toMatch(/ago$/);
      // The absolute time names its zone (UTC, GMT+1, ...).
      expect(created.getAttribute('title')).toMatch(/2026.*\d\d:\d\d:\d\d.*(UTC|GMT|[A-Z]{2,5})/);
    });

    it('says when the next attempt is due while the job waits for a retry', async () => {
      const due = new Date(Date.now() + 30_000).toISOString();
      httpMock.expectOne(URL).flush(makeJob({ status: 'QUEUED', attempts: 1, nextAttemptAt: due }));
      await settle();
      expect(text('job-next-attempt')).toMatch(/due in (29|30) s/);
      expect(byTestId('job-next-attempt')!.querySelector('time')!.getAttribute('datetime')).toBe(
        due,
      );
    });

    it('has one role=status region and names the job in the tab title', async () => {
      httpMock.expectOne(URL).flush(makeJob({ status: 'QUEUED', name: 'Nightly export' }));
      await settle();
      expect(el().querySelectorAll('[role="status"]').length).toBe(1);
      expect(text('status-announcement')).toBe('Status: QUEUED');
      expect(TestBed.inject(Title).getTitle()).toContain('Nightly export');
      expect(byTestId('copy-id')?.getAttribute('aria-label')).toBe('Copy JobId');
    });
  });
});

describe('JobStatusComponent back-off (issue 15)', () => {
  let fixture: ComponentFixture<JobStatusComponent>;
  let httpMock: HttpTestingController;

  beforeEach(async () => {
    useFakeIntervals();
    setDocumentVisibility('visible');
    TestBed.configureTestingModule({
      imports: [JobStatusComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        provideRouter([]),
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(JobStatusComponent);
    fixture.componentRef.setInput('id', JOB_ID);
    await fixture.whenStable();
  });

  afterEach(() => {
    fixture.destroy();
    httpMock.verify();
    vi.useRealTimers();
  });

  it('shows a 60 ms job as COMPLETED 0.5 s after the first poll, not 5 s', async () => {
    httpMock.expectOne(URL).flush(makeJob({ status: 'QUEUED' }));
    await fixture.whenStable();
    vi.advanceTimersByTime(499);
    httpMock.expectNone(URL);
    vi.advanceTimersByTime(1);
    httpMock.expectOne(URL).flush(makeJob({ status: 'COMPLETED', runMs: 60, result: {} }));
    await fixture.whenStable();
    const badge = (fixture.nativeElement as HTMLElement).querySelector(
      '[data-testid="job-status"]',
    );
    expect(badge?.textContent).toBe('COMPLETED');
  });

  it('polls a long job at 0.5, 1.5, 3.5 s, then every 5 s', async () => {
    const at: number[] = [];
    for (let now = 0; now <= 13_500; now += 100) {
      for (const req of httpMock.match(URL)) {
        at.push(now);
        req.flush(makeJob({ status: 'PROCESSING' }));
      }
      vi.advanceTimersByTime(100);
    }
    expect(at).toEqual([0, 500, 1500, 3500, 8500, 13500]);
  });
});
