import {
  ChangeDetectionStrategy,
  Component,
  computed,
  DestroyRef,
  inject,
  input,
  signal,
} from '@angular/core';
import { takeUntilDestroyed, toObservable } from '@angular/core/rxjs-interop';
import { DatePipe } from '@angular/common';
import { RouterLink } from '@angular/router';
import { Subject, switchMap, takeUntil, takeWhile, tap } from 'rxjs';

import { toApiError } from '../../core/interceptors/problem.interceptor';
import { isTerminalStatus, Job } from '../../core/models/job.model';
import { Outcome } from '../../core/models/outcome.model';
import { ApiError } from '../../core/models/problem.model';
import { JobApiService } from '../../core/services/job-api.service';
import { PollingService, toOutcome } from '../../core/services/polling.service';
import { ProgressBarComponent } from '../../shared/progress-bar/progress-bar.component';
import { StatusBadgeComponent } from '../../shared/status-badge/status-badge.component';
import { JobTimelineComponent } from './job-timeline.component';

/**
 * The status view (`/jobs/:id`). Polls the job until it reaches a terminal status;
 * failed requests (404, network) are shown and polling carries on.
 */
@Component({
  selector: 'app-job-status',
  imports: [DatePipe, RouterLink, StatusBadgeComponent, ProgressBarComponent, JobTimelineComponent],
  templateUrl: './job-status.component.html',
  styleUrl: './job-status.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class JobStatusComponent {
  /** Route parameter `:id` (bound by `withComponentInputBinding`). */
  readonly id = input.required<string>();

  private readonly jobApi = inject(JobApiService);
  private readonly polling = inject(PollingService);
  private readonly destroyRef = inject(DestroyRef);
  private readonly stopPolling$ = new Subject<void>();

  protected readonly job = signal<Job | null>(null);
  protected readonly loadError = signal<ApiError | null>(null);
  protected readonly lastUpdated = signal<Date | null>(null);
  protected readonly cancelling = signal(false);
  protected readonly cancelError = signal<string | null>(null);
  protected readonly intervalSeconds = this.polling.intervalMs / 1000;

  protected readonly isTerminal = computed(() => {
    const job = this.job();
    return job !== null && isTerminalStatus(job.status);
  });
  protected readonly isProcessing = computed(() => this.job()?.status === 'PROCESSING');
  protected readonly canCancel = computed(() => this.job() !== null && !this.isTerminal());
  protected readonly attempts = computed(() => {
    const job = this.job();
    return job === null ? '' : `${job.attempts} / ${job.maxAttempts}`;
  });
  protected readonly resultJson = computed(() => {
    const result = this.job()?.result;
    return result === null || result === undefined ? null : JSON.stringify(result, null, 2);
  });
  protected readonly payloadJson = computed(() => JSON.stringify(this.job()?.payload ?? {}, null, 2));
  protected readonly errorMessage = computed(() => {
    const error = this.loadError();
    if (error === null) {
      return null;
    }
    const retrying = this.isTerminal() ? '' : ` Retrying every ${this.intervalSeconds} s…`;
    if (error.status === 404) {
      return `Job “${this.id()}” was not found.${retrying}`;
    }
    if (error.status === 0) {
      return `Cannot reach the server.${retrying}`;
    }
    return `${error.title}: ${error.detail}.${retrying}`;
  });

  constructor() {
    toObservable(this.id)
      .pipe(
        tap(() => this.reset()),
        switchMap((id) =>
          this.polling.pollWhileVisible(() => toOutcome(this.jobApi.getJob(id))).pipe(
            takeWhile((outcome) => !(outcome.ok && isTerminalStatus(outcome.value.status)), true),
            takeUntil(this.stopPolling$),
          ),
        ),
        takeUntilDestroyed(),
      )
      .subscribe((outcome) => this.apply(outcome));
  }

  protected cancel(): void {
    const job = this.job();
    if (job === null || this.cancelling()) {
      return;
    }
    this.cancelling.set(true);
    this.cancelError.set(null);
    this.jobApi
      .cancelJob(job.id)
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (updated) => {
          this.cancelling.set(false);
          this.apply({ ok: true, value: updated });
        },
        error: (error: unknown) => {
          this.cancelling.set(false);
          const apiError = toApiError(error);
          this.cancelError.set(`Could not cancel: ${apiError.detail}`);
          if (apiError.status === 409) {
            this.refresh(job.id);
          }
        },
      });
  }

  private refresh(id: string): void {
    toOutcome(this.jobApi.getJob(id))
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe((outcome) => this.apply(outcome));
  }

  private apply(outcome: Outcome<Job>): void {
    if (!outcome.ok) {
      this.loadError.set(outcome.error);
      return;
    }
    this.job.set(outcome.value);
    this.loadError.set(null);
    this.lastUpdated.set(new Date());
    if (isTerminalStatus(outcome.value.status)) {
      this.stopPolling$.next();
    }
  }

  private reset(): void {
    this.job.set(null);
    this.loadError.set(null);
    this.lastUpdated.set(null);
    this.cancelError.set(null);
  }
}
