import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  linkedSignal,
  signal,
} from '@angular/core';
import { takeUntilDestroyed, toObservable, toSignal } from '@angular/core/rxjs-interop';
import { DatePipe } from '@angular/common';
import { FormControl, ReactiveFormsModule } from '@angular/forms';
import { RouterLink } from '@angular/router';
import { EMPTY, map, switchMap } from 'rxjs';

import { JOB_STATUSES, JobListQuery, JobPage, JobStatus } from '../../core/models/job.model';
import { ApiError } from '../../core/models/problem.model';
import { DEFAULT_PAGE_SIZE } from '../../core/services/api.config';
import { JobApiService } from '../../core/services/job-api.service';
import { OwnerService } from '../../core/services/owner.service';
import { PollingService, toOutcome } from '../../core/services/polling.service';
import { ProgressBarComponent } from '../../shared/progress-bar/progress-bar.component';
import { StatusBadgeComponent } from '../../shared/status-badge/status-badge.component';
import { BatchListComponent } from '../batch-list/batch-list.component';

/** A row of the list, ready for display. */
export interface JobRow {
  id: string;
  name: string;
  type: string;
  status: JobStatus;
  progress: number;
  isProcessing: boolean;
  attempts: string;
  createdAt: string;
}

interface LoadedPage {
  query: JobListQuery;
  page: JobPage;
}

/**
 * "My jobs" (`/jobs`): the owner's jobs, newest first, with cursor paging and a status
 * filter. One list request per polling interval refreshes the whole page (never one
 * request per job), paused while the tab is hidden.
 */
@Component({
  selector: 'app-job-list',
  imports: [DatePipe, ReactiveFormsModule, RouterLink, StatusBadgeComponent, ProgressBarComponent, BatchListComponent],
  templateUrl: './job-list.component.html',
  styleUrl: './job-list.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class JobListComponent {
  private readonly jobApi = inject(JobApiService);
  private readonly polling = inject(PollingService);
  private readonly owner = inject(OwnerService);

  protected readonly ownerId = this.owner.ownerId;
  protected readonly statuses = JOB_STATUSES;
  protected readonly intervalSeconds = this.polling.intervalMs / 1000;
  protected readonly statusFilter = new FormControl<JobStatus | ''>('', { nonNullable: true });

  private readonly status = toSignal(this.statusFilter.valueChanges, { initialValue: '' as const });

  /** Cursor of every page visited so far (null = first page); reset when owner or filter change. */
  private readonly cursorStack = linkedSignal<string, readonly (string | null)[]>({
    source: () => `${this.ownerId() ?? ''}|${this.status()}`,
    computation: () => [null],
  });

  private readonly query = computed((): JobListQuery | null => {
    const ownerId = this.ownerId();
    const stack = this.cursorStack();
    return ownerId === null
      ? null
      : {
          ownerId,
          status: this.status() || null,
          limit: DEFAULT_PAGE_SIZE,
          cursor: stack[stack.length - 1],
        };
  });

  private readonly loaded = signal<LoadedPage | null>(null);
  protected readonly loadError = signal<ApiError | null>(null);

  protected readonly rows = computed((): JobRow[] =>
    (this.loaded()?.page.items ?? []).map((job) => ({
      id: job.id,
      name: job.name,
      type: job.type,
      status: job.status,
      progress: job.progress,
      isProcessing: job.status === 'PROCESSING',
      attempts: `${job.attempts} / ${job.maxAttempts}`,
      createdAt: job.createdAt,
    })),
  );
  /** True until the page matching the current owner, filter and cursor has arrived. */
  protected readonly loading = computed(() => this.loaded()?.query !== this.query());
  protected readonly pageNumber = computed(() => this.cursorStack().length);
  protected readonly hasPrevious = computed(() => this.cursorStack().length > 1);
  protected readonly nextCursor = computed(() =>
    this.loading() ? null : (this.loaded()?.page.nextCursor ?? null),
  );
  protected readonly isEmpty = computed(() => !this.loading() && this.rows().length === 0);
  protected readonly errorMessage = computed(() => {
    const error = this.loadError();
    if (error === null) {
      return null;
    }
    const reason = error.status === 0 ? 'the server cannot be reached' : error.detail;
    return `Could not refresh the list (${reason}). Retrying every ${this.intervalSeconds} s…`;
  });

  constructor() {
    toObservable(this.query)
      .pipe(
        switchMap((query) =>
          query === null
            ? EMPTY
            : this.polling
                .pollWhileVisible(() => toOutcome(this.jobApi.listJobs(query)))
                .pipe(map((outcome) => ({ query, outcome }))),
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
