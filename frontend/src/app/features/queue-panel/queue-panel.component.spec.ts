import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';

import { makeQueueStats, setDocumentVisibility, useFakeIntervals } from '../../../testing/fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { POLL_INTERVAL_MS } from '../../core/services/polling.service';
import { QueuePanelComponent } from './queue-panel.component';

const INTERVAL = 1000;

describe('QueuePanelComponent', () => {
  let fixture: ComponentFixture<QueuePanelComponent>;
  let httpMock: HttpTestingController;

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const byTestId = (id: string): HTMLElement | null => el().querySelector<HTMLElement>(`[data-testid="${id}"]`);
  const settle = (): Promise<void> => fixture.whenStable();

  async function advance(ms: number): Promise<void> {
    vi.advanceTimersByTime(ms);
    await settle();
  }

  beforeEach(async () => {
    useFakeIntervals();
    setDocumentVisibility('visible');
    TestBed.configureTestingModule({
      imports: [QueuePanelComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        { provide: POLL_INTERVAL_MS, useValue: INTERVAL },
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(QueuePanelComponent);
    await settle();
  });

  afterEach(() => {
    fixture.destroy();
    httpMock.match('/api/cost'); // the cost panel below has its own spec
    httpMock.verify();
    vi.useRealTimers();
    setDocumentVisibility('visible');
  });

  it('shows messages per queue, jobs per status, throughput and the Flower link', async () => {
    httpMock.expectOne('/api/queues').flush(makeQueueStats());
    await settle();
    expect(byTestId('queue-panel')).not.toBeNull();
    const rows = Array.from(el().querySelectorAll<HTMLElement>('[data-testid="queue-row"]'));
    expect(rows.map((r) => r.getAttribute('data-queue'))).toEqual(['batchlab-jobs', 'batchlab-dlq']);
    const cells = (row: HTMLElement): string[] =>
      ['queue-visible', 'queue-in-flight', 'queue-delayed'].map(
        (id) => row.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? '',
      );
    expect(cells(rows[0])).toEqual(['4', '2', '1']);
    expect(cells(rows[1])).toEqual(['7', '0', '0']);
    expect(rows[1].getAttribute('data-role')).toBe('dlq');

    const counts = Array.from(byTestId('jobs-by-status')!.querySelectorAll('li')).map((li) => [
      li.getAttribute('data-status'),
      li.querySelector('[data-testid="status-count"]')?.textContent?.trim(),
    ]);
    expect(counts).toEqual([
      ['QUEUED', '4'],
      ['PROCESSING', '2'],
      ['COMPLETED', '10'],
      ['FAILED', '1'],
      ['CANCELLED', '3'],
    ]);
    expect(byTestId('completed-per-second')?.textContent?.trim()).toBe('0.25');

    const flower = byTestId('flower-link') as HTMLAnchorElement;
    expect(flower.getAttribute('href')).toBe('http://localhost:5555');
    expect(flower.target).toBe('_blank');
    expect(flower.rel).toContain('noopener');
  });

  it("with a tenant's key shows only its own counts, no queues and no Flower link", async () => {
    httpMock.expectOne('/api/queues').flush(
      makeQueueStats({
        scope: 'owner',
        ownerId: 'alice',
        queues: [],
        flowerUrl: null,
        jobsCounted: 1000,
        truncated: true,
      }),
    );
    await settle();
    expect(el().querySelectorAll('[data-testid="queue-row"]').length).toBe(0);
    expect(el().textContent).not.toContain('Messages per queue');
    expect(byTestId('flower-link')).toBeNull();
    expect(byTestId('queue-own-jobs')?.textContent).toContain('your jobs only (alice, the newest 1000)');
    expect(el().textContent).toContain('Your jobs by status');
    expect(byTestId('jobs-by-status')!.querySelectorAll('li').length).toBe(5);
  });

  it('shows the cost panel below the queue panel', async () => {
    httpMock.expectOne('/api/queues').flush(makeQueueStats());
    await settle();
    const queues = byTestId('queue-panel')!;
    const cost = byTestId('cost-panel');
    expect(cost).not.toBeNull();
    expect(queues.contains(cost)).toBe(false);
    expect(queues.compareDocumentPosition(cost!) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(httpMock.match('/api/cost').length).toBe(1);
  });

  const figures = (): string[] => [
    ...Array.from(el().querySelectorAll('[data-testid="status-count"]')).map((e) => e.textContent!.trim()),
    byTestId('completed-per-second')!.textContent!.trim(),
    ...Array.from(el().querySelectorAll('[data-testid="queue-row"] td')).map((e) => e.textContent!.trim()),
  ];

  it('shows an outage, not zeros, when the API fails before any figures arrived', async () => {
    httpMock.expectOne('/api/queues').flush(
      { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'DynamoDB is down' },
      { status: 503, statusText: 'Service Unavailable' },
    );
    await settle();
    expect(byTestId('queue-panel')!.getAttribute('data-state')).toBe('outage');
    expect(byTestId('queue-error')?.textContent).toContain('Queue statistics unavailable (DynamoDB is down)');
    expect(byTestId('queue-error')?.textContent).toContain('No figures yet');
    expect(new Set(figures())).toEqual(new Set(['—']));
    expect(el().textContent).toContain('Unavailable.');
  });

  it('hides stale figures during an outage and shows them again when the API answers', async () => {
    httpMock.expectOne('/api/queues').flush(makeQueueStats());
    await settle();
    expect(byTestId('queue-panel')!.getAttribute('data-state')).toBe('live');
    expect(figures()).not.toContain('—');
    await advance(INTERVAL);
    httpMock.expectOne('/api/queues').error(new ProgressEvent('error'));
    await settle();
    expect(byTestId('queue-panel')!.getAttribute('data-state')).toBe('outage');
    expect(new Set(figures())).toEqual(new Set(['—']));
    expect(byTestId('queue-last-known')?.textContent).toMatch(/The last figures were from \d\d:\d\d:\d\d/);
    // The queues stay listed by name, so the table keeps its shape.
    expect(el().querySelectorAll('[data-testid="queue-row"]').length).toBe(2);
    await advance(INTERVAL);
    httpMock.expectOne('/api/queues').flush(makeQueueStats());
    await settle();
    expect(figures()).toContain('10');
    expect(figures()).not.toContain('—');
  });

  it('shows no zeros while the first answer is on its way', () => {
    expect(byTestId('queue-panel')!.getAttribute('data-state')).toBe('loading');
    expect(new Set(figures())).toEqual(new Set(['—']));
    httpMock.expectOne('/api/queues').flush(makeQueueStats());
  });

  it('polls every interval, keeps going after errors and pauses while hidden', async () => {
    httpMock.expectOne('/api/queues').flush(makeQueueStats());
    await advance(INTERVAL);
    httpMock.expectOne('/api/queues').error(new ProgressEvent('error'));
    await settle();
    expect(byTestId('queue-error')?.textContent).toContain('cannot be reached');

    await advance(INTERVAL);
    httpMock.expectOne('/api/queues').flush(makeQueueStats({ completedPerSecond: 1.5 }));
    await settle();
    expect(byTestId('queue-error')).toBeNull();
    expect(byTestId('completed-per-second')?.textContent?.trim()).toBe('1.50');

    setDocumentVisibility('hidden');
    await advance(INTERVAL * 5);
    httpMock.expectNone('/api/queues');
    setDocumentVisibility('visible');
    await settle();
    httpMock.expectOne('/api/queues').flush(makeQueueStats());
  });
});
