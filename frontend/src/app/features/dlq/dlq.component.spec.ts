import { provideHttpClient, withInterceptors } from '@angular/common/http';
import {
  HttpTestingController,
  provideHttpClientTesting,
  TestRequest,
} from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';

import { problem, setDocumentVisibility, useFakeIntervals } from '../../../testing/fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { DeadLetterList } from '../../core/models/dlq.model';
import { ApiKeyService } from '../../core/services/api-key.service';
import { POLL_INTERVAL_MS } from '../../core/services/polling.service';
import { DlqComponent } from './dlq.component';

const INTERVAL = 1000;
const LIST: DeadLetterList = {
  approximateCount: 2,
  items: [
    {
      jobId: 'job-aaaaaaaa-1',
      type: 'simulate',
      ownerId: 'alice',
      lastError: 'RuntimeError: simulated failure',
      attempts: 3,
      deadLetteredAt: '2026-01-01T10:00:00Z',
    },
    {
      jobId: 'job-bbbbbbbb-2',
      type: 'sha256',
      ownerId: 'bob',
      lastError: null,
      attempts: 1,
      deadLetteredAt: null,
    },
  ],
};

describe('DlqComponent (issue 15)', () => {
  let fixture: ComponentFixture<DlqComponent>;
  let httpMock: HttpTestingController;

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T | null =>
    el().querySelector<T>(`[data-testid="${id}"]`);
  const settle = (): Promise<void> => fixture.whenStable();
  const expectList = (): TestRequest =>
    httpMock.expectOne((r) => r.url === '/api/dlq' && r.method === 'GET');

  beforeEach(async () => {
    useFakeIntervals();
    setDocumentVisibility('visible');
    localStorage.clear();
    TestBed.configureTestingModule({
      imports: [DlqComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        provideRouter([]),
        { provide: POLL_INTERVAL_MS, useValue: INTERVAL },
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(DlqComponent);
    await settle();
  });

  afterEach(() => {
    fixture.destroy();
    httpMock.verify();
    vi.useRealTimers();
    localStorage.clear();
  });

  it('lists dead-lettered jobs with their last error; refreshes on demand, never by itself', async () => {
    expectList().flush(LIST);
    await settle();
    const rows = Array.from(el().querySelectorAll('[data-testid="dlq-row"]'));
    expect(rows.map((r) => r.getAttribute('data-job-id'))).toEqual([
      'job-aaaaaaaa-1',
      'job-bbbbbbbb-2',
    ]);
    expect(rows[0].querySelector('[data-testid="dlq-last-error"]')?.textContent).toContain(
      'simulated failure',
    );
    expect(rows[0].querySelector('a')?.getAttribute('href')).toBe('/jobs/job-aaaaaaaa-1');
    expect(byTestId('dlq-count')?.textContent).toContain('About 2');
    // GET /api/dlq hides the messages for a moment (SQS has no peek): no polling.
    vi.advanceTimersByTime(INTERVAL * 10);
    httpMock.expectNone('/api/dlq');
    byTestId<HTMLButtonElement>('dlq-refresh')!.click();
    await settle();
    expectList().flush({ approximateCount: 0, items: [] });
    await settle();
    expect(byTestId('dlq-empty')).not.toBeNull();
    expect(byTestId('redrive-all')).toBeNull();
  });

  it('redrives one job and refreshes at once', async () => {
    expectList().flush(LIST);
    await settle();
    el()
      .querySelector<HTMLButtonElement>('[data-testid="dlq-row"] [data-testid="redrive-one"]')!
      .click();
    await settle();
    const req = httpMock.expectOne('/api/dlq/job-aaaaaaaa-1/redrive');
    expect(req.request.method).toBe('POST');
    req.flush({ moved: 1, jobIds: ['job-aaaaaaaa-1'] });
    await settle();
    expect(byTestId('dlq-message')?.textContent).toContain('Redrove 1 job(s)');
    expectList().flush({ approximateCount: 1, items: [LIST.items[1]] });
  });

  it('redrives all after a confirmation', async () => {
    expectList().flush(LIST);
    await settle();
    byTestId<HTMLButtonElement>('redrive-all')!.click();
    await settle();
    httpMock.expectNone('/api/dlq/redrive');
    expect(byTestId('redrive-all-confirm')?.textContent).toContain('Redrive all 2');
    expect(document.activeElement).toBe(byTestId('redrive-all-no'));
    byTestId<HTMLButtonElement>('redrive-all-yes')!.click();
    await settle();
    httpMock
      .expectOne((r) => r.url === '/api/dlq/redrive' && r.method === 'POST')
      .flush({ moved: 2, jobIds: [] });
    await settle();
    expect(byTestId('dlq-message')?.textContent).toContain('Redrove 2 job(s)');
    expectList().flush({ approximateCount: 0, items: [] });
  });

  it('tells a tenant the page is for operators, and loads again when the key changes', async () => {
    expectList().flush(problem(403, { detail: 'operators only' }), {
      status: 403,
      statusText: 'Forbidden',
    });
    await settle();
    expect(byTestId('dlq-forbidden')).not.toBeNull();
    expect(byTestId('dlq-error')).toBeNull();
    vi.advanceTimersByTime(INTERVAL * 5);
    httpMock.expectNone('/api/dlq');
    TestBed.inject(ApiKeyService).setApiKey('operator-key');
    await settle();
    expectList().flush(LIST);
    await settle();
    expect(byTestId('dlq-forbidden')).toBeNull();
  });
});
