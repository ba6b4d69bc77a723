import {
  afterNextRender,
  ChangeDetectionStrategy,
  Component,
  computed,
  DestroyRef,
  ElementRef,
  inject,
  Injector,
  input,
  signal,
  viewChild,
} from '@angular/core';
import { takeUntilDestroyed, toObservable } from '@angular/core/rxjs-interop';
import { DatePipe, DecimalPipe } from '@angular/common';
import { Title } from '@angular/platform-browser';
import { RouterLink } from '@angular/router';
import { combineLatest, startWith, Subject, switchMap, tap } from 'rxjs';

import { toApiError } from '../../core/interceptors/problem.interceptor';
import { isTerminalStatus, Job, JsonObject } from '../../core/models/job.model';
import { Outcome } from '../../core/models/outcome.model';
import { JobApiService } from '../../core/services/job-api.service';
import { Followed, followErrorMessage } from '../../core/services/follow';
import { PollingService, toOutcome } from '../../core/services/polling.service';
import {
  jobNotFoundMessage,
  jobNotFoundReason,
  keepPollingUnlessGone,
} from '../../shared/not-found/job-not-found';
import { NotFoundComponent } from '../../shared/not-found/not-found.component';
import { ProgressBarComponent } from '../../shared/progress-bar/progress-bar.component';
import { CopyButtonComponent } from '../../shared/copy-button/copy-button.component';
import { formatDuration } from '../../shared/relative-time/relative-time';
import { RelativeTimeComponent } from '../../shared/relative-time/relative-time.component';
import { StatusBadgeComponent } from '../../shared/status-badge/status-badge.component';
import { JobTimelineComponent } from './job-timeline.component';

/** Statuses a job can be retried from (`POST /api/jobs/{id}/retry`). */
const RETRYABLE = new Set(['FAILED', 'CANCELLED']);

/**
 * The status view (`/jobs/:id`). Polls the job until it reaches a terminal status, fast
 * first (0.5, 1, 2 s) then every interval, so a short job shows as done within a second;
 * failed requests (404, network) are shown and polling carries on. Retry puts the job
 * back in the queue and polls again from the fast start.
 */
@Component({
  selector: 'app-job-status',
  imports: [
    DatePipe,
    DecimalPipe,
    RouterLink,
    StatusBadgeComponent,
    ProgressBarComponent,
    JobTimelineComponent,
    RelativeTimeComponent,
    CopyButtonComponent,
    NotFoundComponent,
  ],
  templateUrl: './job-status.component.html',
  styleUrls: ['../../shared/status-page/status-page.css', './job-status.component.css'],
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class JobStatusComponent {
  /** Route parameter `:id` (bound by `withComponentInputBinding`). */
  readonly id = input.required<string>();

  private readonly jobApi = inject(JobApiService);
  private readonly polling = inject(PollingService);
  private readonly destroyRef = inject(DestroyRef);
  private readonly title = inject(Title);
  private readonly injector = inject(Injector);
  private readonly keepJobButton = viewChild<ElementRef<HTMLButtonElement>>('keepJobButton');
  private readonly restartPolling$ = new Subject<void>();

  /** The job, the last failed read and when it last arrived. */
  private readonly followed = new Followed<Job>((job) => isTerminalStatus(job.status));
  protected readonly job = this.followed.value;
  protected readonly loadError = this.followed.loadError;
  protected readonly lastUpdated = this.followed.lastUpdated;
  protected readonly isTerminal = this.followed.ended;
  protected readonly cancelling = signal(false);
  protected readonly cancelError = signal<string | null>(null);
  /** Cancel asks first: true while "Cancel this job?" is shown. */
  protected readonly confirmingCancel = signal(false);
  protected readonly retrying = signal(false);
  protected readonly retryError = signal<string | null>(null);
  protected readonly intervalSeconds = this.polling.intervalMs / 1000;

  protected readonly isProcessing = computed(() => this.job()?.status === 'PROCESSING');
  protected readonly canCancel = computed(() => this.job() !== null && !this.isTerminal());
  protected readonly canRetry = computed(() => RETRYABLE.has(this.job()?.status ?? ''));
  /** Re-run any finished job as a new one, pre-filled in the New job form. */
  protected readonly canRerun = computed(() => this.isTerminal());
  protected readonly queueWait = computed(() =>
    formatDuration(this.job()?.queueWaitMs ?? waitOf(this.job())),
  );
  protected readonly runTime = computed(() =>
    formatDuration(this.job()?.runMs ?? runOf(this.job())),
  );
  /** "attempt 2 of 3": the attempt the Started time belongs to. */
  protected readonly startedAttempt = computed(() => {
    const job = this.job();
    const attempt = job?.startedAttempt ?? (job?.startedAt ? job.attempts : null);
    return job === null || !attempt ? null : `attempt ${attempt} of ${job.maxAttempts}`;
  });
  /** When a job waiting for a retry will be tried again. */
  protected readonly nextAttemptAt = computed(() => {
    const job = this.job();
    return job?.status === 'QUEUED' && job.nextAttemptAt ? job.nextAttemptAt : null;
  });
  /** The single live region of the page: the status, announced when it changes. */
  protected readonly statusAnnouncement = computed(() => {
    const job = this.job();
    return job === null ? '' : `Status: ${job.status}`;
  });
  protected readonly attempts = computed(() => {
    const job = this.job();
    return job === null ? '' : `${job.attempts} / ${job.maxAttempts}`;
  });
  protected readonly resultJson = computed(() => {
    const result = this.job()?.result;
    return result === null || result === undefined ? null : JSON.stringify(result, null, 2);
  });
  /** A payload kept apart from the job, once loaded on request. */
  protected readonly loadedPayload = signal<JsonObject | null>(null);
  protected readonly payloadError = signal<string | null>(null);
  protected readonly payloadJson = computed(() => {
    const payload = this.job()?.payload ?? this.loadedPayload();
    return payload === null ? null : JSON.stringify(payload, null, 2);
  });
  protected readonly payloadApart = computed(() => {
    const job = this.job();
    return job !== null && job.payload === null && this.loadedPayload() === null;
  });
  /** Where "Download result" points: S3's presigned URL, or null for a result in the job. */
  protected readonly resultUrl = computed(() => this.job()?.resultUrl ?? null);
  protected readonly canDownload = computed(
    () => this.resultUrl() !== null || this.resultJson() !== null,
  );
  protected readonly resultFileName = computed(() => `${this.id()}-result.json`);
  protected readonly earlierTransitions = computed(() => {
    const job = this.job();
    return job === null ? 0 : Math.max(0, (job.historyCount ?? 0) - job.history.length);
  });
  /** Set once the id is malformed or no such job exists: polling stops (see job-not-found.ts). */
  protected readonly notFound = computed(() => {
    const reason = this.job() === null ? jobNotFoundReason(this.loadError()) : null;
    return reason === null ? null : jobNotFoundMessage(this.id(), reason);
  });
  protected readonly errorMessage = computed(() =>
    this.notFound() !== null
      ? null
      : followErrorMessage({
          error: this.loadError(),
          noun: 'Job',
          id: this.id(),
          ended: this.isTerminal(),
          intervalSeconds: this.intervalSeconds,
        }),
  );

  constructor() {
    combineLatest([
      toObservable(this.id).pipe(tap(() => this.reset())),
      this.restartPolling$.pipe(startWith(undefined)),
    ])
      .pipe(
        switchMap(([id]) =>
          this.polling.followUntil(() => this.jobApi.getJob(id), {
            isEnded: this.followed.isEnded,
            backoff: true,
            keepWhile: keepPollingUnlessGone<Job>(),
            stop$: this.followed.ended$,
          }),
        ),
        takeUntilDestroyed(),
      )
      .subscribe((outcome) => this.apply(outcome));
  }

  protected askCancel(): void {
    this.cancelError.set(null);
    this.confirmingCancel.set(true);
    // The Cancel button is replaced by the question: focus its safe answer, not the body.
    afterNextRender(() => this.keepJobButton()?.nativeElement.focus(), { injector: this.injector });
  }

  protected keepJob(): void {
    this.confirmingCancel.set(false);
  }

  protected cancel(): void {
    const job = this.job();
    if (job === null || this.cancelling()) {
      return;
    }
    this.confirmingCancel.set(false);
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

  /** A new attempt of this FAILED or CANCELLED job; polls again from the fast start. */
  protected retry(): void {
    const job = this.job();
    if (job === null || this.retrying()) {
      return;
    }
    this.retrying.set(true);
    this.retryError.set(null);
    this.jobApi
      .retryJob(job.id)
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (updated) => {
          this.retrying.set(false);
          this.apply({ ok: true, value: updated });
          if (!isTerminalStatus(updated.status)) {
            this.restartPolling$.next();
          }
        },
        error: (error: unknown) => {
          this.retrying.set(false);
          this.retryError.set(`Could not retry: ${toApiError(error).detail}`);
          this.refresh(job.id);
        },
      });
  }

  /** Save an inline result as a JSON file (an S3 result is a plain link instead). */
  protected downloadResult(): void {
    const json = this.resultJson();
    if (json === null) {
      return;
    }
    const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = this.resultFileName();
    link.click();
    URL.revokeObjectURL(url);
  }

  protected loadPayload(): void {
    this.payloadError.set(null);
    this.jobApi
      .getPayload(this.id())
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (payload) => this.loadedPayload.set(payload),
        error: (error: unknown) =>
          this.payloadError.set(`Could not load the payload: ${toApiError(error).detail}`),
      });
  }

  private refresh(id: string): void {
    toOutcome(this.jobApi.getJob(id))
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe((outcome) => this.apply(outcome));
  }

  private apply(outcome: Outcome<Job>): void {
    if (outcome.ok) {
      this.title.setTitle(`${outcome.value.name} (${outcome.value.status}) · Job · BatchLab`);
    }
    this.followed.apply(outcome);
  }

  private reset(): void {
    this.followed.reset();
    this.cancelError.set(null);
    this.confirmingCancel.set(false);
    this.retryError.set(null);
    this.loadedPayload.set(null);
    this.payloadError.set(null);
  }
}

/** Queue wait from the times, for an API that does not send `queueWaitMs`. */
function waitOf(job: Job | null): number | null {
  return job?.startedAt ? Date.parse(job.startedAt) - Date.parse(job.createdAt) : null;
}

/** Run time from the times, for an API that does not send `runMs`. */
function runOf(job: Job | null): number | null {
  return job?.startedAt && job.finishedAt
    ? Date.parse(job.finishedAt) - Date.parse(job.startedAt)
    : null;
}
