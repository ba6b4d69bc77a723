import { provideHttpClient, withInterceptors } from '@angular/common/http';
import {
  HttpTestingController,
  provideHttpClientTesting,
  TestRequest,
} from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { ChartConfiguration, ChartData } from 'chart.js';

import { setDocumentVisibility, useFakeIntervals } from '../../../testing/fixtures';
import { problemInterceptor } from '../../core/interceptors/problem.interceptor';
import { ChartMinute } from '../../core/models/charts.model';
import { POLL_INTERVAL_MS } from '../../core/services/polling.service';
import { CHART_FACTORY, ChartHandle } from './chart-factory';
import { ChartsComponent } from './charts.component';

const INTERVAL = 1000;

function minute(at: string, overrides: Partial<ChartMinute> = {}): ChartMinute {
  return { at, completed: 0, failed: 0, queueDepth: 0, byType: {}, ...overrides };
}

const SERIES: ChartMinute[] = [
  minute('2026-01-01T10:01:00Z', {
    completed: 30,
    failed: 2,
    queueDepth: 4,
    byType: { sha256: { waitP50Ms: 40, waitP95Ms: 90, runP50Ms: 5, runP95Ms: 12, count: 30 } },
  }),
  minute('2026-01-01T10:00:00Z', {
    completed: 20,
    queueDepth: 9,
    byType: {
      sha256: { waitP50Ms: 50, waitP95Ms: 120, runP50Ms: 6, runP95Ms: 15, count: 10 },
      simulate: { waitP50Ms: 10, waitP95Ms: 20, runP50Ms: 1000, runP95Ms: 2000, count: 10 },
    },
  }),
];

interface FakeChart extends ChartHandle {
  canvas: HTMLCanvasElement;
  type: string;
  updates: number;
  destroyed: boolean;
}

describe('ChartsComponent (issue 15)', () => {
  let fixture: ComponentFixture<ChartsComponent>;
  let httpMock: HttpTestingController;
  let charts: FakeChart[];

  const el = (): HTMLElement => fixture.nativeElement as HTMLElement;
  const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T | null =>
    el().querySelector<T>(`[data-testid="${id}"]`);
  const settle = (): Promise<void> => fixture.whenStable();
  const expectSeries = (): TestRequest => httpMock.expectOne((r) => r.url === '/api/charts');
  const chartOn = (testId: string): FakeChart => charts.find((c) => c.canvas === byTestId(testId))!;
  const data = (testId: string, i: number): unknown[] =>
    chartOn(testId).data.datasets[i].data as unknown[];

  beforeEach(async () => {
    useFakeIntervals();
    setDocumentVisibility('visible');
    charts = [];
    TestBed.configureTestingModule({
      imports: [ChartsComponent],
      providers: [
        provideHttpClient(withInterceptors([problemInterceptor])),
        provideHttpClientTesting(),
        { provide: POLL_INTERVAL_MS, useValue: INTERVAL },
        {
          // jsdom has no canvas: record what Chart.js would be given.
          provide: CHART_FACTORY,
          useValue: (canvas: HTMLCanvasElement, config: ChartConfiguration): ChartHandle => {
            const chart: FakeChart = {
              canvas,
              type: config.type,
              data: config.data as ChartData,
              updates: 0,
              destroyed: false,
              update: () => void chart.updates++,
              destroy: () => void (chart.destroyed = true),
            };
            charts.push(chart);
            return chart;
          },
        },
      ],
    });
    httpMock = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(ChartsComponent);
    await settle();
  });

  afterEach(() => {
    fixture.destroy();
    httpMock.verify();
    vi.useRealTimers();
  });

  it('asks for the last hour and draws three Chart.js charts from it', async () => {
    const req = expectSeries();
    expect(req.request.params.get('minutes')).toBe('60');
    req.flush({ minutes: SERIES });
    await settle();
    expect(charts.map((c) => c.type)).toEqual(['bar', 'line', 'line']);
    // Oldest minute first.
    expect(data('chart-counts', 0)).toEqual([20, 30]);
    expect(data('chart-counts', 1)).toEqual([0, 2]);
    expect(data('chart-depth', 0)).toEqual([9, 4]);
    expect(chartOn('chart-counts').data.labels?.length).toBe(2);
    // The times chart shows the first type: wait p50, wait p95, run p50, run p95.
    expect(byTestId<HTMLSelectElement>('chart-type')!.value).toBe('sha256');
    expect(data('chart-times', 0)).toEqual([50, 40]);
    expect(data('chart-times', 3)).toEqual([15, 12]);
    expect(byTestId('charts-totals')?.textContent).toContain('50 completed and 2 failed');
    expect(byTestId('chart-counts')?.getAttribute('aria-label')).toContain(
      '50 completed, 2 failed',
    );
    expect(byTestId('chart-counts')?.getAttribute('data-points')).toBe('3');
  });

  it('switches the times chart to another type; null where the type ran nothing', async () => {
    expectSeries().flush({ minutes: SERIES });
    await settle();
    const select = byTestId<HTMLSelectElement>('chart-type')!;
    select.value = 'simulate';
    select.dispatchEvent(new Event('change'));
    await settle();
    expect(data('chart-times', 2)).toEqual([1000, null]);
    expect(byTestId('chart-times')?.getAttribute('aria-label')).toContain('simulate');
  });

  it('updates the same charts on each poll and destroys them with the page', async () => {
    expectSeries().flush({ minutes: SERIES });
    await settle();
    // Every two intervals: the figures change every 10 s.
    vi.advanceTimersByTime(INTERVAL);
    httpMock.expectNone((r) => r.url === '/api/charts');
    vi.advanceTimersByTime(INTERVAL);
    expectSeries().flush({
      minutes: [...SERIES, minute('2026-01-01T10:02:00Z', { completed: 5 })],
    });
    await settle();
    expect(charts.length).toBe(3);
    expect(data('chart-counts', 0)).toEqual([20, 30, 5]);
    expect(chartOn('chart-counts').updates).toBeGreaterThanOrEqual(2);
    fixture.destroy();
    expect(charts.every((c) => c.destroyed)).toBe(true);
  });

  it('says when a tenant gets no queue depth', async () => {
    expectSeries().flush({
      minutes: [minute('2026-01-01T10:00:00Z', { queueDepth: null, completed: 1 })],
    });
    await settle();
    expect(el().textContent).toContain('Queue depth is shown to operators only');
  });
});
