import {
  afterNextRender,
  ChangeDetectionStrategy,
  Component,
  computed,
  DestroyRef,
  ElementRef,
  inject,
  Injector,
  signal,
  viewChild,
} from '@angular/core';
import { takeUntilDestroyed, toObservable } from '@angular/core/rxjs-interop';
import { DatePipe } from '@angular/common';
import { RouterLink } from '@angular/router';
import { combineLatest, startWith, Subject, switchMap, tap } from 'rxjs';

import { toApiError } from '../../core/interceptors/problem.interceptor';
import { DeadLetterList, Redrive } from '../../core/models/dlq.model';
import { ApiError } from '../../core/models/problem.model';
import { ApiKeyService } from '../../core/services/api-key.service';
import { DlqApiService } from '../../core/services/dlq-api.service';
import { toOutcome } from '../../core/services/polling.service';
import { CopyButtonComponent } from '../../shared/copy-button/copy-button.component';
import { RelativeTimeComponent } from '../../shared/relative-time/relative-time.component';

/** Rows shown; the count above the table is the queue's approximate total. */
export const DLQ_PAGE_SIZE = 50;

/**
 * Dead letters (`/dlq`, operator role, issue 15): the jobs whose messages the jobs queue
 * gave up on, with their last error, and redrive of one or all (back to the jobs queue,
 * the job QUEUED again).
 *
 * Loaded on open, on Refresh and after each redrive, but NOT polled: SQS has no peek, so
 * `GET /api/dlq` receives the messages and hides them for a few seconds; polling every 5 s
 * would keep them hidden from a redrive most of the time. A tenant key gets 403.
 */
@Component({
  selector: 'app-dlq',
  imports: [DatePipe, RouterLink, CopyButtonComponent, RelativeTimeComponent],
  templateUrl: './dlq.component.html',
  styleUrl: './dlq.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DlqComponent {
  private readonly dlqApi = inject(DlqApiService);
  private readonly destroyRef = inject(DestroyRef);
  private readonly injector = inject(Injector);
  private readonly notNowButton = viewChild<ElementRef<HTMLButtonElement>>('notNowButton');
  private readonly refresh$ = new Subject<void>();

  protected readonly list = signal<DeadLetterList | null>(null);
  protected readonly loadError = signal<ApiError | null>(null);
  protected readonly busy = signal<string | null>(null);
  protected readonly confirmingAll = signal(false);
  protected readonly message = signal<string | null>(null);
  protected readonly actionError = signal<string | null>(null);
  protected readonly loading = signal(false);
  protected readonly loadedAt = signal<Date | null>(null);

  protected readonly forbidden = computed(() => {
    const status = this.loadError()?.status;
    return status === 401 || status === 403;
  });
  protected readonly errorMessage = computed(() => {
    const error = this.loadError();
    if (error === null || this.forbidden()) {
      return null;
    }
    const reason = error.status === 0 ? 'the server cannot be reached' : error.detail;
    return `Could not load the dead letters (${reason}). Try Refresh.`;
  });
  protected readonly count = computed(() => this.list()?.approximateCount ?? 0);
  protected readonly isEmpty = computed(
    () => this.list() !== null && this.list()!.items.length === 0,
  );

  constructor() {
    combineLatest([
      toObservable(inject(ApiKeyService).apiKey),
      this.refresh$.pipe(startWith(undefined)),
    ])
      .pipe(
        tap(() => this.loading.set(true)),
        switchMap(() => toOutcome(this.dlqApi.list(DLQ_PAGE_SIZE))),
        takeUntilDestroyed(),
      )
      .subscribe((outcome) => {
        this.loading.set(false);
        this.loadedAt.set(new Date());
        if (outcome.ok) {
          this.list.set(outcome.value);
          this.loadError.set(null);
        } else {
          this.loadError.set(outcome.error);
        }
      });
  }

  protected refresh(): void {
    this.refresh$.next();
  }

  protected redriveOne(jobId: string): void {
    this.run(jobId, this.dlqApi.redriveOne(jobId));
  }

  protected askRedriveAll(): void {
    this.confirmingAll.set(true);
    // The button is replaced by the question: keep the focus on the page, on its safe answer.
    afterNextRender(() => this.notNowButton()?.nativeElement.focus(), { injector: this.injector });
  }

  protected keepAll(): void {
    this.confirmingAll.set(false);
  }

  protected redriveAll(): void {
    this.confirmingAll.set(false);
    this.run('*', this.dlqApi.redriveAll());
  }

  private run(key: string, request: ReturnType<DlqApiService['redriveAll']>): void {
    if (this.busy() !== null) {
      return;
    }
    this.busy.set(key);
    this.message.set(null);
    this.actionError.set(null);
    request.pipe(takeUntilDestroyed(this.destroyRef)).subscribe({
      next: (result: Redrive) => {
        this.busy.set(null);
        this.message.set(`Redrove ${result.moved} job(s) to the jobs queue.`);
        this.refresh$.next();
      },
      error: (error: unknown) => {
        this.busy.set(null);
        this.actionError.set(`Could not redrive: ${toApiError(error).detail}`);
        this.refresh$.next();
      },
    });
  }
}
