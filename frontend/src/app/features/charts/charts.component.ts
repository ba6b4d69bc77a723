import {
  afterRenderEffect,
  ChangeDetectionStrategy,
  Component,
  computed,
  DestroyRef,
  ElementRef,
  inject,
  signal,
  viewChild,
} from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { ChartConfiguration } from 'chart.js';

import { ChartMinute } from '../../core/models/charts.model';
import { ApiError } from '../../core/models/problem.model';
import { ChartsApiService } from '../../core/services/charts-api.service';
import { PollingService, toOutcome } from '../../core/services/polling.service';
import { CHART_FACTORY, ChartHandle } from './chart-factory';
import { toChartView, typeSeries } from './chart-data';

/** The window the page shows. */
export const CHART_MINUTES = 60;

const COLORS = {
  completed: '#2e7d32',
  failed: '#c62828',
  depth: '#1565c0',
  waitP50: '#6a1b9a',
  waitP95: '#ba68c8',
  runP50: '#ef6c00',
  runP95: '#ffb74d',
};

/**
 * Charts (`/charts`, issue 15) over the last hour, drawn by Chart.js: completed and failed
 * jobs per minute, queue depth, and queue wait / run time p50 and p95 of a chosen job type.
 * The API aggregates per minute in each worker and flushes with the meter, so this page
 * costs one request per interval and nothing per job.
 */
@Component({
  selector: 'app-charts',
  templateUrl: './charts.component.html',
  styleUrl: './charts.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ChartsComponent {
  private readonly chartsApi = inject(ChartsApiService);
  private readonly polling = inject(PollingService);
  private readonly createChart = inject(CHART_FACTORY);

  private readonly countsCanvas = viewChild.required<ElementRef<HTMLCanvasElement>>('counts');
  private readonly depthCanvas = viewChild.required<ElementRef<HTMLCanvasElement>>('depth');
  private readonly timesCanvas = viewChild.required<ElementRef<HTMLCanvasElement>>('times');
  private charts: { counts: ChartHandle; depth: ChartHandle; times: ChartHandle } | null = null;

  protected readonly minutes = signal<ChartMinute[] | null>(null);
  protected readonly loadError = signal<ApiError | null>(null);
  protected readonly intervalSeconds = (this.polling.intervalMs * 2) / 1000;
  protected readonly windowMinutes = CHART_MINUTES;

  protected readonly view = computed(() => toChartView(this.minutes() ?? []));
  private readonly chosenType = signal<string | null>(null);
  /** The type shown in the times chart: the chosen one, else the first with data. */
  protected readonly selectedType = computed(() => {
    const types = this.view().types;
    const chosen = this.chosenType();
    return chosen !== null && types.includes(chosen) ? chosen : (types[0] ?? null);
  });
  protected readonly times = computed(() => {
    const type = this.selectedType();
    return type === null ? null : typeSeries(this.minutes() ?? [], type);
  });
  protected readonly depthKnown = computed(() => this.view().queueDepth.some((d) => d !== null));
  protected readonly countsLabel = computed(() => {
    const { completed, failed } = this.view().totals;
    return `Jobs per minute over the last ${CHART_MINUTES} minutes: ${completed} completed, ${failed} failed.`;
  });
  protected readonly depthLabel = computed(() => {
    const depths = this.view().queueDepth.filter((d): d is number => d !== null);
    return depths.length === 0
      ? 'Queue depth: not available.'
      : `Queue depth per minute: now ${depths[depths.length - 1]}, at most ${Math.max(...depths)}.`;
  });
  protected readonly timesLabel = computed(() => {
    const type = this.selectedType();
    const series = this.times();
    return type === null || series === null
      ? 'Queue wait and run time: no jobs yet.'
      : `Queue wait and run time of ${type}, p50 and p95 per minute, ${series.count} job(s).`;
  });
  protected readonly errorMessage = computed(() => {
    const error = this.loadError();
    if (error === null) {
      return null;
    }
    const reason = error.status === 0 ? 'the server cannot be reached' : error.detail;
    return `Could not load the charts (${reason}). Retrying every ${this.intervalSeconds} s…`;
  });

  constructor() {
    this.polling
      // The workers flush their figures every 10 s: polling faster would show nothing new.
      .pollWhileVisible(() => toOutcome(this.chartsApi.getSeries(CHART_MINUTES)), { slowdown: 2 })
      .pipe(takeUntilDestroyed())
      .subscribe((outcome) => {
        if (outcome.ok) {
          this.minutes.set(outcome.value.minutes);
          this.loadError.set(null);
        } else {
          this.loadError.set(outcome.error);
        }
      });

    // Draw once the canvases exist, then redraw in place on every new series.
    afterRenderEffect(() => {
      const view = this.view();
      const times = this.times();
      const charts = this.charts ?? (this.charts = this.build());
      charts.counts.data.labels = view.labels;
      charts.counts.data.datasets[0].data = view.completed;
      charts.counts.data.datasets[1].data = view.failed;
      charts.depth.data.labels = view.labels;
      charts.depth.data.datasets[0].data = view.queueDepth;
      charts.times.data.labels = view.labels;
      const series = times
        ? [times.waitP50, times.waitP95, times.runP50, times.runP95]
        : [[], [], [], []];
      series.forEach((data, i) => (charts.times.data.datasets[i].data = data));
      for (const [name, chart] of Object.entries(charts)) {
        chart.update('none');
        // What was drawn, for tests and curious users: points with a value.
        const points = chart.data.datasets.reduce(
          (sum, d) =>
            sum + (d.data as (number | null)[]).filter((v) => v !== null && v !== 0).length,
          0,
        );
        this.canvasOf(name).setAttribute('data-points', String(points));
      }
    });
    inject(DestroyRef).onDestroy(() => {
      Object.values(this.charts ?? {}).forEach((chart) => chart.destroy());
      this.charts = null;
    });
  }

  protected chooseType(type: string): void {
    this.chosenType.set(type);
  }

  private canvasOf(name: string): HTMLCanvasElement {
    const refs = { counts: this.countsCanvas, depth: this.depthCanvas, times: this.timesCanvas };
    return refs[name as keyof typeof refs]().nativeElement;
  }

  private build(): { counts: ChartHandle; depth: ChartHandle; times: ChartHandle } {
    const common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
    } as const;
    const counts: ChartConfiguration = {
      type: 'bar',
      data: {
        labels: [],
        datasets: [
          { label: 'Completed', data: [], backgroundColor: COLORS.completed, stack: 'jobs' },
          { label: 'Failed', data: [], backgroundColor: COLORS.failed, stack: 'jobs' },
        ],
      },
      options: {
        ...common,
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    };
    const depth: ChartConfiguration = {
      type: 'line',
      data: {
        labels: [],
        datasets: [
          {
            label: 'Messages waiting',
            data: [],
            borderColor: COLORS.depth,
            backgroundColor: COLORS.depth,
            spanGaps: true,
          },
        ],
      },
      options: { ...common, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    };
    const line = (
      label: string,
      color: string,
      dashed: boolean,
    ): ChartConfiguration['data']['datasets'][number] => ({
      label,
      data: [],
      borderColor: color,
      backgroundColor: color,
      borderDash: dashed ? [6, 4] : [],
      spanGaps: true,
    });
    const times: ChartConfiguration = {
      type: 'line',
      data: {
        labels: [],
        datasets: [
          line('Wait p50', COLORS.waitP50, false),
          line('Wait p95', COLORS.waitP95, true),
          line('Run p50', COLORS.runP50, false),
          line('Run p95', COLORS.runP95, true),
        ],
      },
      options: {
        ...common,
        scales: { y: { beginAtZero: true, title: { display: true, text: 'ms' } } },
      },
    };
    return {
      counts: this.createChart(this.countsCanvas().nativeElement, counts),
      depth: this.createChart(this.depthCanvas().nativeElement, depth),
      times: this.createChart(this.timesCanvas().nativeElement, times),
    };
  }
}
