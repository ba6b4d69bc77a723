import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { DatePipe, DecimalPipe } from '@angular/common';

import { JOB_STATUSES, JobStatus } from '../../core/models/job.model';
import { ApiError } from '../../core/models/problem.model';
import { QueueStats } from '../../core/models/queue.model';
import { PollingService, toOutcome } from '../../core/services/polling.service';
import { QueueApiService } from '../../core/services/queue-api.service';
import { StatusBadgeComponent } from '../../shared/status-badge/status-badge.component';
import { CostPanelComponent } from '../cost-panel/cost-panel.component';

export interface StatusCount {
  status: JobStatus;
  /** Null while the figures are unknown (not loaded yet, or the API is failing). */
  count: number | null;
}

/** Shown instead of a figure that is unknown: never a 0 that looks like data. */
export const UNKNOWN_FIGURE = '—';

/**
 * Queue panel (`/queues`): depth of each queue, job counts per status, throughput and a
 * link to Flower. Polls `GET /api/queues`, paused while the tab is hidden. The cost panel
 * (`GET /api/cost`) sits below it. With a tenant's API key the API answers for the
 * tenant's own jobs only (`scope: 'owner'`): the panel then shows those counts and no
 * queues or Flower link, which are for operators.
 *
 * While the API fails (an outage), every figure shows "—" rather than the last or zero
 * counts, which would read as live data; the alert says since when the figures are missing.
 */
@Component({
  selector: 'app-queue-panel',
  imports: [DecimalPipe, DatePipe, StatusBadgeComponent, CostPanelComponent],
  templateUrl: './queue-panel.component.html',
  styleUrl: './queue-panel.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class QueuePanelComponent {
  private readonly queueApi = inject(QueueApiService);
  private readonly polling = inject(PollingService);

  protected readonly stats = signal<QueueStats | null>(null);
  protected readonly loadError = signal<ApiError | null>(null);
  protected readonly lastUpdated = signal<Date | null>(null);
  protected readonly intervalSeconds = this.polling.intervalMs / 1000;

  protected readonly unknown = UNKNOWN_FIGURE;
  /** True while the last request failed: the figures on screen would be stale. */
  protected readonly outage = computed(() => this.loadError() !== null);
  /** The stats to show, or null while they are unknown (loading, or an outage). */
  protected readonly current = computed(() => (this.outage() ? null : this.stats()));
  protected readonly ownJobsOnly = computed(() => this.stats()?.scope === 'owner');
  protected readonly ownJobsText = computed(() => {
    const stats = this.stats();
    if (stats?.scope !== 'owner') {
      return null;
    }
    const newest = stats.truncated ? `, the newest ${stats.jobsCounted}` : '';
    return `Counts of your jobs only (${stats.ownerId ?? ''}${newest}). Queue depths and Flower are for operators.`;
  });
  protected readonly statusCounts = computed((): StatusCount[] => {
    const byStatus = this.current()?.jobsByStatus;
    return JOB_STATUSES.map((status) => ({
      status,
      count: byStatus === undefined ? null : (byStatus[status] ?? 0),
    }));
  });
  protected readonly errorMessage = computed(() => {
    const error = this.loadError();
    if (error === null) {
      return null;
    }
    const reason = error.status === 0 ? 'the server cannot be reached' : error.detail;
    return `Queue statistics unavailable (${reason}). Retrying every ${this.intervalSeconds} s…`;
  });

  constructor() {
    this.polling
      .pollWhileVisible(() => toOutcome(this.queueApi.getQueueStats()))
      .pipe(takeUntilDestroyed())
      .subscribe((outcome) => {
        if (outcome.ok) {
          this.stats.set(outcome.value);
          this.loadError.set(null);
          this.lastUpdated.set(new Date());
        } else {
          this.loadError.set(outcome.error);
        }
      });
  }
}
