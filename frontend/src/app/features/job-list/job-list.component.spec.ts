import { provideHttpClient, withInterceptors } from '@angular/common/http';
import {
  HttpTestingController,
  provideHttpClientTesting,
  TestRequest,
} from '@angular/common/http/testing';
import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { NEVER, Observable, of } from 'rxjs';

import {
  JOB_TYPES,
  makeSummary,
  problem,
  setDocumentVisibility,
  useFakeIntervals,
} from '../../../testing/fixtures';
import { makeBatchSummary } from '../../../testing/batch-fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { BatchPage } from '../../core/models/batch.model';
import { JobPage } from '../../core/models/job.model';
import { BatchApiService } from '../../core/services/batch-api.service';
import { OwnerService } from '../../core/services/owner.service';
import { POLL_INTERVAL_MS } from '../../core/services/polling.service';
import { FILTER_DEBOUNCE_MS, JobListComponent } from './job-list.component';

@Component({ template: 'job page' })
class JobPageStub {}

const INTERVAL = 1000;

const PAGE_1: JobPage = {
  items: [makeSummary('j3', 'PROCESSING'), makeSummary('j2', 'COMPLETED')],
  nextCursor: 'cursor-2',
};
const PAGE_2: JobPage = { items: [makeSummary('j1', 'FAILED')], nextCursor: null };

describe('JobListComponent', () => {
  let harness: RouterTestingHarness;
  let httpMock: HttpTestingController;
  /** What the batch list above the jobs gets; silent unless a test says otherwise. */
  let listBatches: () => Observable<BatchPage>;

  const el = (): HTMLElement => harness.routeNativeElement as HTMLElement;
  const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T | null =>
    el().querySelector<T>(`[data-testid="${id}"]`);
  const rows = (): HTMLElement[] =>
    Array.from(el().querySelectorAll<HTMLElement>('[data-testid="job-row"]'));

  async function settle(): Promise<void> {
    await harness.fixture.whenStable();
  }

  async function advance(ms: number): Promise<void> {
    vi.advanceTimersByTime(ms);
    await settle();
  }

  /** Expects exactly one list request (any other pending request fails `verify`). */
  function expectList(): TestRequest {
    return httpMock.expectOne((req) => req.url === '/api/jobs' && req.method === 'GET');
  }

  async function create(ownerId: string | null = 'alice', url = '/jobs'): Promise<void> {
    localStorage.clear();
    if (ownerId !== null) {
      localStorage.setItem('batchlab.ownerId', ownerId);
    }
    harness = await RouterTestingHarness.create();
    await harness.navigateByUrl(url, JobListComponent);
    httpMock.expectOne('/api/job-types').flush(JOB_TYPES);
    await settle();
  }

  beforeEach(() => {
    listBatches = () => NEVER;
    useFakeIntervals();
    setDocumentVisibility('visible');
    TestBed.configureTestingModule({
      imports: [JobListComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        provideRouter([
          { path: 'jobs', component: JobListComponent },
          { path: 'jobs/:id', component: JobPageStub },
        ]),
        { provide: POLL_INTERVAL_MS, useValue: INTERVAL },
        // The batch list above the jobs has its own spec; here it stays silent (but for the
        // page's request count below).
        { provide: BatchApiService, useValue: { listBatches: () => listBatches() } },
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
  });

  afterEach(() => {
    harness.fixture.destroy();
    httpMock.verify();
    vi.useRealTimers();
    setDocumentVisibility('visible');
    localStorage.clear();
  });

  it('asks for the owner id first and sends no request without one', async () => {
    await create(null);
    expect(byTestId('owner-required')).not.toBeNull();
    await advance(INTERVAL * 3);
    httpMock.expectNone((req) => req.url === '/api/jobs');
  });

  it("lists the owner's jobs with a link and data-status per row", async () => {
    await create();
    const req = expectList();
    expect(req.request.params.get('ownerId')).toBe('alice');
    expect(req.request.params.get('limit')).toBe('20');
    expect(req.request.params.has('cursor')).toBe(false);
    expect(req.request.params.has('status')).toBe(false);
    req.flush(PAGE_1);
    await settle();
    expect(rows().map((r) => r.getAttribute('data-status'))).toEqual(['PROCESSING', 'COMPLETED']);
    expect(rows()[0].querySelector('a')?.getAttribute('href')).toBe('/jobs/j3');
    expect(rows()[0].textContent).toContain('Job j3');
  });

  it('refreshes the whole page with ONE request per interval', async () => {
    await create();
    expectList().flush(PAGE_1);
    await settle();
    for (let i = 0; i < 3; i++) {
      await advance(INTERVAL);
      expectList().flush({ ...PAGE_1, items: [makeSummary('j3', 'COMPLETED'), PAGE_1.items[1]] });
      await settle();
      // No per-job request: verify() in afterEach fails on anything else.
      httpMock.expectNone((req) => req.url.startsWith('/api/jobs/'));
    }
    expect(rows()[0].getAttribute('data-status')).toBe('COMPLETED');
  });

  it('pages forward with nextCursor and back with the cursor stack', async () => {
    await create();
    expectList().flush(PAGE_1);
    await settle();
    const prev = byTestId<HTMLButtonElement>('prev-page')!;
    const next = byTestId<HTMLButtonElement>('next-page')!;
    expect(prev.disabled).toBe(true);
    expect(next.disabled).toBe(false);

    next.click();
    await settle();
    const page2 = expectList();
    expect(page2.request.params.get('cursor')).toBe('cursor-2');
    page2.flush(PAGE_2);
    await settle();
    expect(rows().map((r) => r.getAttribute('data-status'))).toEqual(['FAILED']);
    expect(byTestId('page-number')?.textContent).toContain('Page 2');
    expect(byTestId<HTMLButtonElement>('next-page')!.disabled).toBe(true);
    expect(byTestId<HTMLButtonElement>('prev-page')!.disabled).toBe(false);

    // Polling stays on page 2.
    await advance(INTERVAL);
    const refresh = expectList();
    expect(refresh.request.params.get('cursor')).toBe('cursor-2');
    refresh.flush(PAGE_2);
    await settle();

    byTestId<HTMLButtonElement>('prev-page')!.click();
    await settle();
    const back = expectList();
    expect(back.request.params.has('cursor')).toBe(false);
    back.flush(PAGE_1);
    await settle();
    expect(rows().length).toBe(2);
    expect(byTestId('page-number')?.textContent).toContain('Page 1');
    expect(byTestId<HTMLButtonElement>('prev-page')!.disabled).toBe(true);
  });

  it('does not offer Next before the new page has arrived', async () => {
    await create();
    expectList().flush(PAGE_1);
    await settle();
    byTestId<HTMLButtonElement>('next-page')!.click();
    await settle();
    expect(byTestId<HTMLButtonElement>('next-page')!.disabled).toBe(true);
    expectList().flush({ items: [makeSummary('j1')], nextCursor: 'cursor-3' });
    await settle();
    expect(byTestId<HTMLButtonElement>('next-page')!.disabled).toBe(false);
  });

  it('filters by status and restarts from the first page', async () => {
    await create();
    expectList().flush(PAGE_1);
    await settle();
    byTestId<HTMLButtonElement>('next-page')!.click();
    await settle();
    expectList().flush(PAGE_2);
    await settle();

    const select = byTestId<HTMLSelectElement>('status-filter')!;
    select.value = 'FAILED';
    select.dispatchEvent(new Event('change'));
    await advance(FILTER_DEBOUNCE_MS);
    const req = expectList();
    expect(req.request.params.get('status')).toBe('FAILED');
    expect(req.request.params.has('cursor')).toBe(false);
    req.flush(PAGE_2);
    await settle();
    expect(byTestId('page-number')?.textContent).toContain('Page 1');
  });

  it('pauses while the tab is hidden and resumes when visible', async () => {
    await create();
    expectList().flush(PAGE_1);
    await settle();
    setDocumentVisibility('hidden');
    await advance(INTERVAL * 5);
    httpMock.expectNone((req) => req.url === '/api/jobs');

    setDocumentVisibility('visible');
    await settle();
    expectList().flush(PAGE_1);
    await advance(INTERVAL);
    expectList().flush(PAGE_1);
  });

  it('shows an error and keeps polling', async () => {
    await create();
    expectList().error(new ProgressEvent('error'));
    await settle();
    expect(byTestId('list-error')?.textContent).toContain('cannot be reached');
    await advance(INTERVAL);
    expectList().flush(PAGE_1);
    await settle();
    expect(byTestId('list-error')).toBeNull();
    expect(rows().length).toBe(2);
  });

  it('reloads when the owner id changes', async () => {
    await create();
    expectList().flush(PAGE_1);
    await settle();
    TestBed.inject(OwnerService).setOwnerId('bob');
    await settle();
    const req = expectList();
    expect(req.request.params.get('ownerId')).toBe('bob');
    req.flush({ items: [], nextCursor: null });
    await settle();
    expect(rows().length).toBe(0);
    expect(byTestId('job-list-empty')).not.toBeNull();
  });

  describe('filters in the URL (issue 15)', () => {
    const AFTER = '2026-01-01T08:00:00.000Z';

    it('reads every filter and the page from the URL, so a reload shows the same view', async () => {
      await create(
        'alice',
        `/jobs?status=FAILED&type=sha256&name=night&nameMatch=contains&createdAfter=${AFTER}&order=oldest&cursor=c9&page=3`,
      );
      const req = expectList();
      const params = req.request.params;
      expect(params.get('status')).toBe('FAILED');
      expect(params.get('type')).toBe('sha256');
      expect(params.get('name')).toBe('night');
      expect(params.get('nameMatch')).toBe('contains');
      expect(params.get('createdAfter')).toBe(AFTER);
      expect(params.has('createdBefore')).toBe(false);
      expect(params.get('order')).toBe('oldest');
      expect(params.get('cursor')).toBe('c9');
      req.flush(PAGE_2);
      await settle();
      // The form shows the URL's filter.
      expect(byTestId<HTMLSelectElement>('status-filter')!.value).toBe('FAILED');
      expect(byTestId<HTMLSelectElement>('type-filter')!.value).toBe('sha256');
      expect(byTestId<HTMLInputElement>('name-filter')!.value).toBe('night');
      expect(byTestId<HTMLSelectElement>('name-match')!.value).toBe('contains');
      expect(byTestId<HTMLSelectElement>('order')!.value).toBe('oldest');
      expect(new Date(byTestId<HTMLInputElement>('created-after')!.value).toISOString()).toBe(
        AFTER,
      );
      expect(byTestId('page-number')?.textContent).toContain('Page 3');
      // Previous after a reload goes back to the first page.
      byTestId<HTMLButtonElement>('prev-page')!.click();
      await settle();
      const first = expectList();
      expect(first.request.params.has('cursor')).toBe(false);
      expect(first.request.params.get('status')).toBe('FAILED');
      first.flush(PAGE_1);
      await settle();
      expect(TestBed.inject(Router).url).not.toContain('page=');
    });

    it('ignores values the API would refuse', async () => {
      await create('alice', '/jobs?status=BOGUS&order=sideways&createdAfter=yesterday&page=-2');
      const req = expectList();
      expect(req.request.params.keys().sort()).toEqual(['limit', 'ownerId']);
      req.flush(PAGE_1);
    });

    it('writes the filters to the URL and requests the filtered list once', async () => {
      await create();
      expectList().flush(PAGE_1);
      await settle();
      const type = byTestId<HTMLSelectElement>('type-filter')!;
      type.value = 'sha256';
      type.dispatchEvent(new Event('change'));
      const name = byTestId<HTMLInputElement>('name-filter')!;
      name.value = 'ni';
      name.dispatchEvent(new Event('input'));
      name.value = 'nig';
      name.dispatchEvent(new Event('input'));
      const order = byTestId<HTMLSelectElement>('order')!;
      order.value = 'oldest';
      order.dispatchEvent(new Event('change'));
      await settle();
      httpMock.expectNone((r) => r.url === '/api/jobs');
      await advance(FILTER_DEBOUNCE_MS);
      const req = expectList();
      expect(req.request.params.get('type')).toBe('sha256');
      expect(req.request.params.get('name')).toBe('nig');
      expect(req.request.params.get('order')).toBe('oldest');
      expect(req.request.params.has('nameMatch')).toBe(false);
      req.flush(PAGE_2);
      await settle();
      const url = TestBed.inject(Router).url;
      expect(url).toContain('type=sha256');
      expect(url).toContain('name=nig');
      expect(url).toContain('order=oldest');
      expect(byTestId('clear-filters')).not.toBeNull();

      byTestId<HTMLButtonElement>('clear-filters')!.click();
      await settle();
      const cleared = expectList();
      expect(cleared.request.params.keys().sort()).toEqual(['limit', 'ownerId']);
      cleared.flush(PAGE_1);
      await settle();
      expect(TestBed.inject(Router).url).toBe('/jobs');
    });

    it('does not rewrite the name box while the user types (a trailing space stays)', async () => {
      await create();
      expectList().flush(PAGE_1);
      await settle();
      const name = byTestId<HTMLInputElement>('name-filter')!;
      name.value = 'my ';
      name.dispatchEvent(new Event('input'));
      await advance(FILTER_DEBOUNCE_MS);
      expectList().flush(PAGE_1);
      await settle();
      expect(TestBed.inject(Router).url).toBe('/jobs?name=my');
      expect(name.value).toBe('my ');
    });

    it('follows the URL when it changes (Back, a link)', async () => {
      await create();
      expectList().flush(PAGE_1);
      await settle();
      await harness.navigateByUrl('/jobs?type=simulate&status=QUEUED');
      await settle();
      const req = expectList();
      expect(req.request.params.get('type')).toBe('simulate');
      req.flush(PAGE_1);
      await settle();
      expect(byTestId<HTMLSelectElement>('type-filter')!.value).toBe('simulate');
      expect(byTestId<HTMLSelectElement>('status-filter')!.value).toBe('QUEUED');
    });

    it('keeps the page in the URL', async () => {
      await create();
      expectList().flush(PAGE_1);
      await settle();
      byTestId<HTMLButtonElement>('next-page')!.click();
      await settle();
      expectList().flush(PAGE_2);
      expect(TestBed.inject(Router).url).toBe('/jobs?cursor=cursor-2&page=2');
    });
  });

  describe('rows and search (issue 15)', () => {
    it("names each row's link with its status, and offers to copy the JobId", async () => {
      await create();
      expectList().flush(PAGE_1);
      await settle();
      const link = rows()[0].querySelector('a')!;
      expect(link.getAttribute('aria-label')).toBe('Job j3, PROCESSING, text-stats');
      expect(rows()[0].querySelector('[data-testid="copy-id"]')?.getAttribute('aria-label')).toBe(
        'Copy JobId',
      );
      // Badges are no live regions: a list of them made a page of status regions.
      expect(el().querySelectorAll('[role="status"]').length).toBe(0);
    });

    it('goes straight to the job typed in the JobId box', async () => {
      await create();
      expectList().flush(PAGE_1);
      await settle();
      const box = byTestId<HTMLInputElement>('job-id-search')!;
      box.value = '  abc-123 ';
      box.dispatchEvent(new Event('input'));
      byTestId<HTMLButtonElement>('job-id-go')!.click();
      await settle();
      expect(TestBed.inject(Router).url).toBe('/jobs/abc-123');
    });
  });

  describe('bulk actions (issue 15)', () => {
    const bulk = (): TestRequest =>
      httpMock.expectOne((r) => r.url === '/api/jobs/bulk' && r.method === 'POST');
    const result = (overrides: object = {}): object => ({
      action: 'cancel',
      dryRun: true,
      matched: 4,
      acted: 0,
      capped: false,
      jobIds: ['a', 'b', 'c', 'd'],
      ...overrides,
    });

    async function openAt(url: string): Promise<void> {
      await create('alice', url);
      expectList().flush(PAGE_1);
      await settle();
    }

    it('counts first (dry run with the filter), then acts with the expected count', async () => {
      await openAt('/jobs?status=QUEUED&type=sha256&order=oldest');
      expect(byTestId('bulk-scope')?.textContent).toContain('status QUEUED, type sha256');
      byTestId<HTMLButtonElement>('bulk-count')!.click();
      await settle();
      const dry = bulk();
      // Only the set fields, and no `order`: the API refuses unknown filter fields.
      expect(dry.request.body).toEqual({
        action: 'cancel',
        filter: { ownerId: 'alice', status: 'QUEUED', type: 'sha256' },
        dryRun: true,
        limit: 1000,
      });
      dry.flush(result());
      await settle();
      expect(byTestId('bulk-matched')?.textContent).toContain('4 job(s) match');
      byTestId<HTMLButtonElement>('bulk-execute')!.click();
      await settle();
      const run = bulk();
      expect(run.request.body.dryRun).toBe(false);
      expect(run.request.body.expectedCount).toBe(4);
      run.flush(result({ dryRun: false, acted: 4 }));
      await settle();
      expect(byTestId('bulk-done')?.textContent).toContain('Cancelled 4 job(s)');
      expect(byTestId('bulk-confirm')).toBeNull();
      // The list refreshes at once.
      expectList().flush(PAGE_1);
    });

    it('retries by filter and asks to count again when the jobs changed (409)', async () => {
      await openAt('/jobs?status=FAILED');
      const action = byTestId<HTMLSelectElement>('bulk-action')!;
      action.value = 'retry';
      action.dispatchEvent(new Event('change'));
      await settle();
      byTestId<HTMLButtonElement>('bulk-count')!.click();
      await settle();
      const dry = bulk();
      expect(dry.request.body.action).toBe('retry');
      dry.flush(result({ action: 'retry', matched: 2 }));
      await settle();
      byTestId<HTMLButtonElement>('bulk-execute')!.click();
      await settle();
      bulk().flush(problem(409, { detail: 'matched 3, expected 2' }), {
        status: 409,
        statusText: 'Conflict',
      });
      await settle();
      expect(byTestId('bulk-error')?.textContent).toContain('Count again');
      expect(byTestId('bulk-execute')).toBeNull();
    });

    it('forgets the count when the filter changes', async () => {
      await openAt('/jobs?status=QUEUED');
      byTestId<HTMLButtonElement>('bulk-count')!.click();
      await settle();
      bulk().flush(result());
      await settle();
      expect(byTestId('bulk-execute')).not.toBeNull();
      const select = byTestId<HTMLSelectElement>('status-filter')!;
      select.value = 'PROCESSING';
      select.dispatchEvent(new Event('change'));
      await advance(FILTER_DEBOUNCE_MS);
      expectList().flush(PAGE_1);
      await settle();
      expect(byTestId('bulk-execute')).toBeNull();
    });
  });

  describe('one request per interval for the page, its batch list included', () => {
    const RUNNING: BatchPage = { items: [makeBatchSummary('b1')], nextCursor: null };
    const ENDED: BatchPage = {
      items: [makeBatchSummary('b1', { status: 'COMPLETED', progress: 100 })],
      nextCursor: null,
    };
    let batchPage: BatchPage;
    let batchRequests: number;

    beforeEach(() => {
      batchPage = RUNNING;
      batchRequests = 0;
      listBatches = () => {
        batchRequests += 1;
        return of(batchPage); // answered at once
      };
    });

    /** Requests each of `intervals` polling intervals sent (every job list answered). */
    async function countOver(intervals: number) {
      const total = { jobs: 0, batches: 0, perInterval: [] as number[] };
      for (let i = 0; i < intervals; i++) {
        const batchesBefore = batchRequests;
        await advance(INTERVAL);
        const jobs = httpMock.match((req) => req.url === '/api/jobs');
        jobs.forEach((req) => req.flush(PAGE_2));
        await settle();
        const batches = batchRequests - batchesBefore;
        total.jobs += jobs.length;
        total.batches += batches;
        total.perInterval.push(jobs.length + batches);
      }
      return total;
    }

    it('loads both lists at once, then sends one request per interval while a batch runs', async () => {
      await create();
      expectList().flush(PAGE_2);
      await settle();
      expect(batchRequests).toBe(1); // the initial load of both
      const sent = await countOver(6);
      expect(sent.perInterval).toEqual([1, 1, 1, 1, 1, 1]);
      // Both lists stay fresh: they take turns.
      expect([sent.jobs, sent.batches]).toEqual([3, 3]);
    });

    it('gives the job list every interval again once no listed batch runs', async () => {
      await create();
      expectList().flush(PAGE_2);
      await settle();
      batchPage = ENDED; // the batch list's next turn reads it ended: it stops polling
      await countOver(2);
      expect(await countOver(4)).toEqual({ jobs: 4, batches: 0, perInterval: [1, 1, 1, 1] });
    });

    it('says how often the job list is refreshed: every other interval while they take turns', async () => {
      const subtitle = () => el().querySelector('.page-subtitle')?.textContent ?? '';
      await create();
      expectList().flush(PAGE_2);
      await settle();
      expect(subtitle()).toContain(`refreshed every ${(2 * INTERVAL) / 1000} s`);
      batchPage = ENDED;
      await countOver(2);
      expect(subtitle()).toContain(`refreshed every ${INTERVAL / 1000} s`);
    });
  });
});
