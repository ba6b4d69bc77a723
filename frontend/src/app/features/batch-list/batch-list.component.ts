import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  linkedSignal,
  signal,
} from '@angular/core';
import { takeUntilDestroyed, toObservable } from '@angular/core/rxjs-interop';
import { DatePipe, DecimalPipe } from '@angular/common';
import { RouterLink } from '@angular/router';
import { EMPTY, map, switchMap, takeWhile } from 'rxjs';

import { BatchListQuery, BatchPage, isBatchEnded } from '../../core/models/batch.model';
import { ApiError } from '../../core/models/problem.model';
import { BatchApiService } from '../../core/services/batch-api.service';
import { OwnerService } from '../../core/services/owner.service';
import { PollTurns } from '../../core/services/poll-turns';
import { toOutcome } from '../../core/services/polling.service';
import { BatchBadgeComponent } from '../../shared/batch-badge/batch-badge.component';
import { ProgressBarComponent } from '../../shared/progress-bar/progress-bar.component';

/** Batches shown per page of the list on "My jobs". */
export const BATCH_PAGE_SIZE = 5;

interface LoadedPage {
  query: BatchListQuery;
  page: BatchPage;
}

/**
 * The owner's batches on "My jobs", newest first (`GET /api/batches?ownerId=`). Read once;
 * refreshed only while a listed batch is RUNNING, so a page of ended batches costs the job
 * list's one request per interval and nothing more. It polls through the page's PollTurns
 * (provided by My jobs): while it polls, it takes turns with the job list, so the page still
 * sends one request per interval (see JobListComponent).
 */
@Component({
  selector: 'app-batch-list',
  imports: [DatePipe, DecimalPipe, RouterLink, BatchBadgeComponent, ProgressBarComponent],
  templateUrl: './batch-list.component.html',
  styleUrl: './batch-list.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class BatchListComponent {
  private readonly batchApi = inject(BatchApiService);
  private readonly turns = inject(PollTurns);
  private readonly owner = inject(OwnerService);

  /** Cursor of every page visited so far (null = first page); reset when the owner changes. */
  private readonly cursorStack = linkedSignal<string | null, readonly (string | null)[]>({
    source: () => this.owner.ownerId(),
    computation: () => [null],
  });
  private readonly query = computed((): BatchListQuery | null => {
    const ownerId = this.owner.ownerId();
    const stack = this.cursorStack();
    return ownerId === null
      ? null
      : { ownerId, limit: BATCH_PAGE_SIZE, cursor: stack[stack.length - 1] };
  });
  private readonly loaded = signal<LoadedPage | null>(null);
  protected readonly loadError = signal<ApiError | null>(null);

  protected readonly batches = computed(() => this.loaded()?.page.items ?? []);
  protected readonly loading = computed(() => this.loaded()?.query !== this.query());
  protected readonly hasPrevious = computed(() => this.cursorStack().length > 1);
  protected readonly nextCursor = computed(() =>
    this.loading() ? null : (this.loaded()?.page.nextCursor ?? null),
  );
  /** Shown once the first page arrived, empty or not: on a phone its "New batch" button is the
   *  way to the batch form (the header has no room for that link there). */
  protected readonly visible = computed(() => this.query() !== null && this.loaded() !== null);
  protected readonly isEmpty = computed(() => !this.loading() && this.batches().length === 0);

  constructor() {
    toObservable(this.query)
      .pipe(
        switchMap((query) =>
          query === null
            ? EMPTY
            : this.turns
                .poll(() => toOutcome(this.batchApi.listBatches(query)))
                .pipe(
                  takeWhile(
                    (outcome) =>
                      !(outcome.ok && outcome.value.items.every((b) => isBatchEnded(b.status))),
                    true,
                  ),
                  map((outcome) => ({ query, outcome })),
                ),
        ),
        takeUntilDestroyed(),
      )
      .subscribe(({ query, outcome }) => {
        if (outcome.ok) {
          this.loaded.set({ query, page: outcome.value });
          this.loadError.set(null);
        } else {
          this.loadError.set(outcome.error);
        }
      });
  }

  protected finished(counts: { COMPLETED: number; FAILED: number; CANCELLED: number }): number {
    return counts.COMPLETED + counts.FAILED + counts.CANCELLED;
  }

  protected nextPage(): void {
    const cursor = this.nextCursor();
    if (cursor !== null) {
      this.cursorStack.update((stack) => [...stack, cursor]);
    }
  }

  protected previousPage(): void {
    if (this.hasPrevious()) {
      this.cursorStack.update((stack) => stack.slice(0, -1));
    }
  }
}
