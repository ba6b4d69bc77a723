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
import { RouterLink } from '@angular/router';
import { Observable, switchMap, tap } from 'rxjs';

import { toApiError } from '../../core/interceptors/problem.interceptor';
import { Batch, isBatchEnded } from '../../core/models/batch.model';
import { JOB_STATUSES, JobStatus } from '../../core/models/job.model';
import { Outcome } from '../../core/models/outcome.model';
import { BatchApiService } from '../../core/services/batch-api.service';
import { Followed, followErrorMessage } from '../../core/services/follow';
import { PollingService, toOutcome } from '../../core/services/polling.service';
import { BatchBadgeComponent } from '../../shared/batch-badge/batch-badge.component';
import { InvalidItemsComponent } from '../../shared/invalid-items/invalid-items.component';
import { ProgressBarComponent } from '../../shared/progress-bar/progress-bar.component';
import { formatDuration } from './duration';

/** An action of the page that changes the batch. */
type BatchAction = 'cancel' | 'retry';

/**
 * The batch page (`/batches/:id`): progress, counts per status, throughput and ETA, the
 * failed children with their errors, and retry-failed / cancel / download. One request
 * (`GET /api/batches/{id}`, which carries the failures too) per polling interval for the
 * whole page, paused while the tab is hidden, stopped once the batch ended; a retry of
 * its failures makes it RUNNING again and polling resumes.
 */
@Component({
  selector: 'app-batch-status',
  imports: [
    DatePipe,
    DecimalPipe,
    RouterLink,
    BatchBadgeComponent,
    InvalidItemsComponent,
    ProgressBarComponent,
  ],
  templateUrl: './batch-status.component.html',
  styleUrls: ['../../shared/status-page/status-page.css', './batch-status.component.css'],
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class BatchStatusComponent {
  /** Route parameter `:id` (bound by `withComponentInputBinding`). */
  readonly id = input.required<string>();

  private readonly batchApi = inject(BatchApiService);
  private readonly polling = inject(PollingService);
  private readonly destroyRef = inject(DestroyRef);
  private readonly injector = inject(Injector);
  private readonly cancelButton = viewChild<ElementRef<HTMLButtonElement>>('cancelButton');
  private readonly keepButton = viewChild<ElementRef<HTMLButtonElement>>('keepButton');

  protected readonly statuses = JOB_STATUSES;
  protected readonly intervalSeconds = this.polling.intervalMs / 1000;
  /** The batch, the last failed read and when it last arrived. */
  private readonly followed = new Followed<Batch>((batch) => isBatchEnded(batch.status));
  protected readonly batch = this.followed.value;
  protected readonly loadError = this.followed.loadError;
  protected readonly lastUpdated = this.followed.lastUpdated;
  protected readonly ended = this.followed.ended;
  /** The action under way, if any; cancelling asks for a confirmation first. */
  protected readonly busy = signal<BatchAction | null>(null);
  protected readonly confirmingCancel = signal(false);
  protected readonly actionError = signal<string | null>(null);
  protected readonly downloading = signal(false);
  /** Bumped to poll again after the batch ended (a retry of its failures). */
  private readonly pollRound = signal(0);
  private readonly pollKey = computed(() => ({ id: this.id(), round: this.pollRound() }));

  protected readonly counts = computed(() => {
    const batch = this.batch();
    return this.statuses.map((status) => ({ status, count: batch?.counts[status] ?? 0 }));
  });
  protected readonly finished = computed(() => {
    const counts = this.batch()?.counts;
    return counts === undefined ? 0 : counts.COMPLETED + counts.FAILED + counts.CANCELLED;
  });
  protected readonly failedCount = computed(() => this.batch()?.counts.FAILED ?? 0);
  /** The FAILED children the batch lists (up to 20), with their errors. */
  protected readonly failures = computed(() => this.batch()?.failures ?? []);
  protected readonly unlistedFailures = computed(() => this.failedCount() - this.failures().length);
  protected readonly canCancel = computed(() => this.batch()?.status === 'RUNNING');
  protected readonly canRetry = computed(() => this.failedCount() > 0);
  protected readonly eta = computed(() => {
    const batch = this.batch();
    return batch === null || this.ended() || batch.etaSeconds === null
      ? null
      : formatDuration(batch.etaSeconds);
  });
  protected readonly resultsFileName = computed(() => `${this.id()}-results.jsonl`);
  protected readonly errorMessage = computed(() =>
    followErrorMessage({
      error: this.loadError(),
      noun: 'Batch',
      id: this.id(),
      ended: this.ended(),
      intervalSeconds: this.intervalSeconds,
    }),
  );

  constructor() {
    toObservable(this.pollKey)
      .pipe(
        tap(({ round }) => {
          if (round === 0) {
            this.reset();
          }
        }),
        switchMap(({ id }) =>
          this.polling.followUntil(() => this.batchApi.getBatch(id), {
            isEnded: this.followed.isEnded,
            stop$: this.followed.ended$,
          }),
        ),
        takeUntilDestroyed(),
      )
      .subscribe((outcome) => this.apply(outcome));
  }

  /** Asks first, with the focus on the safe answer (keyboard users land in the question). */
  protected askCancel(): void {
    this.actionError.set(null);
    this.confirmingCancel.set(true);
    this.focusAfterRender(() => this.keepButton());
  }

  protected keepRunning(): void {
    this.confirmingCancel.set(false);
    this.focusAfterRender(() => this.cancelButton());
  }

  protected cancel(): void {
    this.confirmingCancel.set(false);
    this.act('cancel', (id) => this.batchApi.cancelBatch(id));
  }

  protected retryFailed(): void {
    this.act('retry', (id) => this.batchApi.retryFailed(id));
  }

  /** Saves the results (JSON Lines) as a file: S3's file once ended, else the API's stream. */
  protected downloadResults(): void {
    const batch = this.batch();
    if (batch === null || this.downloading()) {
      return;
    }
    this.downloading.set(true);
    this.actionError.set(null);
    this.batchApi
      .getResults(batch.id, batch.resultsUrl)
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (text) => {
          this.downloading.set(false);
          saveText(text, this.resultsFileName());
        },
        error: (error: unknown) => {
          this.downloading.set(false);
          this.actionError.set(`Could not download the results: ${toApiError(error).detail}`);
        },
      });
  }

  private focusAfterRender(target: () => ElementRef<HTMLElement> | undefined): void {
    afterNextRender(() => target()?.nativeElement.focus(), { injector: this.injector });
  }

  private act(action: BatchAction, request: (id: string) => Observable<Batch>): void {
    const batch = this.batch();
    if (batch === null || this.busy() !== null) {
      return;
    }
    const wasEnded = this.ended();
    this.busy.set(action);
    this.actionError.set(null);
    request(batch.id)
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (updated) => {
          this.busy.set(null);
          this.apply({ ok: true, value: updated });
          if (wasEnded && !isBatchEnded(updated.status)) {
            this.pollRound.update((round) => round + 1); // polling had stopped: resume it
          }
        },
        error: (error: unknown) => {
          this.busy.set(null);
          const apiError = toApiError(error);
          const verb = action === 'cancel' ? 'cancel' : 'retry the failed jobs';
          this.actionError.set(`Could not ${verb}: ${apiError.detail}`);
          if (apiError.status === 409) {
            this.refresh(batch.id);
          }
        },
      });
  }

  /** One read after a refused action (409), so the page shows why. */
  private refresh(id: string): void {
    const wasEnded = this.ended();
    toOutcome(this.batchApi.getBatch(id))
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe((outcome) => {
        this.apply(outcome);
        if (wasEnded && outcome.ok && !isBatchEnded(outcome.value.status)) {
          this.pollRound.update((round) => round + 1);
        }
      });
  }

  private apply(outcome: Outcome<Batch>): void {
    this.followed.apply(outcome);
  }

  private reset(): void {
    this.followed.reset();
    this.actionError.set(null);
    this.confirmingCancel.set(false);
  }

  protected countTestId(status: JobStatus): string {
    return `count-${status}`;
  }
}

function saveText(text: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  URL.revokeObjectURL(url);
}
