import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';

import { makeBatchSummary } from '../../../testing/batch-fixtures';
import {
  JOB_TYPES,
  makeSummary,
  setDocumentVisibility,
  useFakeIntervals,
} from '../../../testing/fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { BatchPage } from '../../core/models/batch.model';
import { JobPage } from '../../core/models/job.model';
import { POLL_INTERVAL_MS } from '../../core/services/polling.service';
import { JobListComponent } from './job-list.component';

const INTERVAL = 1000;
const JOBS: JobPage = { items: [makeSummary('j1', 'PROCESSING')], nextCursor: null };
const RUNNING: BatchPage = { items: [makeBatchSummary('b1')], nextCursor: null };
const ENDED: BatchPage = {
  items: [makeBatchSummary('b1', { status: 'COMPLETED', progress: 100 })],
  nextCursor: null,
};

/** My jobs with its batch list, both on the real HTTP services: what the page sends. */
describe('JobListComponent polling (one request per interval for the page)', () => {
  let harness: RouterTestingHarness;
  let httpMock: HttpTestingController;

  async function settle(): Promise<void> {
    await harness.fixture.whenStable();
  }

  /** Answers every pending list request; returns how many went to each list. */
  async function answer(batches: BatchPage = RUNNING): Promise<{ jobs: number; batches: number }> {
    const jobReqs = httpMock.match((req) => req.url === '/api/jobs');
    const batchReqs = httpMock.match((req) => req.url === '/api/batches');
    jobReqs.forEach((req) => req.flush(JOBS));
    batchReqs.forEach((req) => req.flush(batches));
    await settle();
    return { jobs: jobReqs.length, batches: batchReqs.length };
  }

  /** Requests sent over `intervals` polling intervals, each answered at once. */
  async function countOver(intervals: number, batches: BatchPage = RUNNING) {
    const total = { jobs: 0, batches: 0, perInterval: [] as number[] };
    for (let i = 0; i < intervals; i++) {
      vi.advanceTimersByTime(INTERVAL);
      await settle();
      const sent = await answer(batches);
      total.jobs += sent.jobs;
      total.batches += sent.batches;
      total.perInterval.push(sent.jobs + sent.batches);
    }
    return total;
  }

  beforeEach(async () => {
    useFakeIntervals();
    setDocumentVisibility('visible');
    TestBed.configureTestingModule({
      imports: [JobListComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        provideRouter([{ path: 'jobs', component: JobListComponent }]),
        { provide: POLL_INTERVAL_MS, useValue: INTERVAL },
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    localStorage.setItem('batchlab.ownerId', 'alice');
    harness = await RouterTestingHarness.create();
    await harness.navigateByUrl('/jobs', JobListComponent);
    httpMock.expectOne('/api/job-types').flush(JOB_TYPES);
    await settle();
  });

  afterEach(() => {
    harness.fixture.destroy();
    httpMock.verify();
    vi.useRealTimers();
    localStorage.clear();
  });

  it('loads both lists at once, then sends one request per interval while a batch runs', async () => {
    expect(await answer()).toEqual({ jobs: 1, batches: 1 }); // the initial load of both
    const sent = await countOver(6);
    expect(sent.perInterval).toEqual([1, 1, 1, 1, 1, 1]);
    // Both lists stay fresh: they take turns.
    expect(sent.jobs).toBe(3);
    expect(sent.batches).toBe(3);
  });

  it('gives the job list every interval again once no listed batch runs', async () => {
    await answer();
    await countOver(2, ENDED); // the batch list's turn answers "ended": it stops polling
    const sent = await countOver(4, ENDED);
    expect(sent).toEqual({ jobs: 4, batches: 0, perInterval: [1, 1, 1, 1] });
  });
});
