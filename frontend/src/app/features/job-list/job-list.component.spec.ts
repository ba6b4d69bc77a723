import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, TestRequest } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { NEVER } from 'rxjs';

import { makeSummary, setDocumentVisibility, useFakeIntervals } from '../../../testing/fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { JobPage } from '../../core/models/job.model';
import { BatchApiService } from '../../core/services/batch-api.service';
import { OwnerService } from '../../core/services/owner.service';
import { POLL_INTERVAL_MS } from '../../core/services/polling.service';
import { JobListComponent } from './job-list.component';

const INTERVAL = 1000;

const PAGE_1: JobPage = {
  items: [makeSummary('j3', 'PROCESSING'), makeSummary('j2', 'COMPLETED')],
  nextCursor: 'cursor-2',
};
const PAGE_2: JobPage = { items: [makeSummary('j1', 'FAILED')], nextCursor: null };

describe('JobListComponent', () => {
  let fixture: ComponentFixture<JobListComponent>;
  let httpMock: HttpTestingController;

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T | null =>
    el().querySelector<T>(`[data-testid="${id}"]`);
  const rows = (): HTMLElement[] => Array.from(el().querySelectorAll<HTMLElement>('[data-testid="job-row"]'));

  async function settle(): Promise<void> {
    await fixture.whenStable();
  }

  async function advance(ms: number): Promise<void> {
    vi.advanceTimersByTime(ms);
    await settle();
  }

  /** Expects exactly one list request (any other pending request fails `verify`). */
  function expectList(): TestRequest {
    return httpMock.expectOne((req) => req.url === '/api/jobs' && req.method === 'GET');
  }

  async function create(ownerId: string | null = 'alice'): Promise<void> {
    localStorage.clear();
    if (ownerId !== null) {
      localStorage.setItem('batchlab.ownerId', ownerId);
    }
    fixture = TestBed.createComponent(JobListComponent);
    await settle();
  }

  beforeEach(() => {
    useFakeIntervals();
    setDocumentVisibility('visible');
    TestBed.configureTestingModule({
      imports: [JobListComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        provideRouter([]),
        { provide: POLL_INTERVAL_MS, useValue: INTERVAL },
        // The batch list above the jobs has its own spec; here it stays silent.
        { provide: BatchApiService, useValue: { listBatches: () => NEVER } },
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
  });

  afterEach(() => {
    fixture.destroy();
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
    expect(rows()[0].getAttribute('href')).toBe('/jobs/j3');
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
    await settle();
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
});
