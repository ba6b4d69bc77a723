import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { takeUntilDestroyed, toObservable, toSignal } from '@angular/core/rxjs-interop';
import { FormControl, FormGroup, ReactiveFormsModule } from '@angular/forms';
import { ActivatedRoute, Router, RouterLink } from '@angular/router';
import {
  catchError,
  combineLatest,
  debounce,
  EMPTY,
  map,
  of,
  startWith,
  Subject,
  switchMap,
  timer,
} from 'rxjs';

import {
  EMPTY_JOB_FILTER,
  JOB_STATUSES,
  JobFilter,
  JobListQuery,
  JobOrder,
  JobPage,
  JobStatus,
  NameMatch,
} from '../../core/models/job.model';
import { ApiError } from '../../core/models/problem.model';
import { DEFAULT_PAGE_SIZE } from '../../core/services/api.config';
import { JobApiService } from '../../core/services/job-api.service';
import { JobTypeService } from '../../core/services/job-type.service';
import { OwnerService } from '../../core/services/owner.service';
import { PollTurns } from '../../core/services/poll-turns';
import { PollingService, toOutcome } from '../../core/services/polling.service';
import { CopyButtonComponent } from '../../shared/copy-button/copy-button.component';
import { ProgressBarComponent } from '../../shared/progress-bar/progress-bar.component';
import { formatDuration } from '../../shared/relative-time/relative-time';
import { RelativeTimeComponent } from '../../shared/relative-time/relative-time.component';
import { StatusBadgeComponent } from '../../shared/status-badge/status-badge.component';
import { BatchListComponent } from '../batch-list/batch-list.component';
import { BulkActionsComponent } from './bulk-actions.component';
import {
  filterKey,
  fromLocalInput,
  ListState,
  parseListParams,
  toListParams,
  toLocalInput,
} from './list-params';

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
  /** "wait 1.2 s · run 60 ms" or null before the first start. */
  times: string | null;
  /** The link's accessible name: name, status, type (issue 15: rows named without their status). */
  label: string;
}

interface LoadedPage {
  query: JobListQuery;
  page: JobPage;
}

/** How long typing in the filters waits before the URL (and the list) follows. */
export const FILTER_DEBOUNCE_MS = 300;

/**
 * "My jobs" (`/jobs`): the owner's jobs filtered by status, type, name and a created-time
 * window, newest or oldest first, with cursor paging. Filters and page live in the URL
 * (issue 15), so a reload or a shared link shows the same view; the URL is the only
 * source of truth and the form follows it. One list request per polling interval
 * refreshes the whole page (never one request per job), paused while the tab is hidden.
 *
 * The page sends at most one request per interval in steady state, its batch list included:
 * both lists poll through one PollTurns loop (provided here). After the initial load of both,
 * the job list is refreshed every interval while no listed batch runs; while one runs, the
 * two lists take turns, each refreshed every other interval (10 s by default). Alternating
 * was chosen over a slower batch cadence on top of the job list's because only alternating
 * keeps the total at one request per interval; a running batch's progress still shows
 * within two intervals, and its jobs in the list below within two as well.
 */
@Component({
  selector: 'app-job-list',
  imports: [
    ReactiveFormsModule,
    RouterLink,
    StatusBadgeComponent,
    ProgressBarComponent,
    RelativeTimeComponent,
    CopyButtonComponent,
    BulkActionsComponent,
    BatchListComponent,
  ],
  templateUrl: './job-list.component.html',
  styleUrl: './job-list.component.css',
  providers: [PollTurns],
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class JobListComponent {
  private readonly jobApi = inject(JobApiService);
  private readonly polling = inject(PollingService);
  private readonly turns = inject(PollTurns);
  private readonly owner = inject(OwnerService);
  private readonly router = inject(Router);
  private readonly route = inject(ActivatedRoute);

  protected readonly ownerId = this.owner.ownerId;
  protected readonly statuses = JOB_STATUSES;
  private readonly intervalSeconds = this.polling.intervalMs / 1000;
  /** Every interval, or every other one while the batch list takes turns (see above). */
  protected readonly refreshSeconds = computed(
    () => this.intervalSeconds * Math.max(1, this.turns.sharers()),
  );
  protected readonly jobTypes = toSignal(
    inject(JobTypeService)
      .getJobTypes()
      .pipe(
        map((types) => types.map((t) => t.type)),
        catchError(() => of([] as string[])),
      ),
    { initialValue: [] as string[] },
  );

  protected readonly filters = new FormGroup({
    status: new FormControl<JobStatus | ''>('', { nonNullable: true }),
    type: new FormControl('', { nonNullable: true }),
    name: new FormControl('', { nonNullable: true }),
    nameMatch: new FormControl<NameMatch>('prefix', { nonNullable: true }),
    createdAfter: new FormControl('', { nonNullable: true }),
    createdBefore: new FormControl('', { nonNullable: true }),
    order: new FormControl<JobOrder>('newest', { nonNullable: true }),
  });
  protected readonly jobIdSearch = new FormControl('', { nonNullable: true });

  private readonly state = toSignal(this.route.queryParamMap.pipe(map(parseListParams)), {
    requireSync: true,
  });
  /** The filter, stable while only the page changes (so a bulk count survives paging). */
  protected readonly filter = computed((): JobFilter => this.state().filter, {
    equal: (a, b) => filterKey(a) === filterKey(b),
  });
  /** Cursors of the pages before this one, to go back; empty after a reload (back = page 1). */
  private readonly previousCursors = signal<(string | null)[]>([]);
  private readonly refresh$ = new Subject<void>();

  private readonly query = computed((): JobListQuery | null => {
    const ownerId = this.ownerId();
    const state = this.state();
    return ownerId === null
      ? null
      : { ...state.filter, ownerId, limit: DEFAULT_PAGE_SIZE, cursor: state.cursor };
  });

  private readonly loaded = signal<LoadedPage | null>(null);
  protected readonly loadError = signal<ApiError | null>(null);

  protected readonly rows = computed((): JobRow[] =>
    (this.loaded()?.page.items ?? []).map((job) => {
      const wait = formatDuration(job.queueWaitMs);
      const run = formatDuration(job.runMs);
      return {
        id: job.id,
        name: job.name,
        type: job.type,
        status: job.status,
        progress: job.progress,
        isProcessing: job.status === 'PROCESSING',
        attempts: `${job.attempts} / ${job.maxAttempts}`,
        createdAt: job.createdAt,
        times: wait === null ? null : run === null ? `wait ${wait}` : `wait ${wait} · run ${run}`,
        label: `${job.name}, ${job.status}, ${job.type}`,
      };
    }),
  );
  /** True until the page matching the current owner, filter and cursor has arrived. */
  protected readonly loading = computed(() => this.loaded()?.query !== this.query());
  protected readonly pageNumber = computed(() => this.state().page);
  protected readonly hasPrevious = computed(() => this.state().page > 1);
  protected readonly isFiltered = computed(
    () => filterKey(this.filter()) !== filterKey(EMPTY_JOB_FILTER),
  );
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
    return `Could not refresh the list (${reason}). Retrying every ${this.refreshSeconds()} s…`;
  });

  constructor() {
    // The form follows the URL (reload, shared link, Back); the URL follows the form.
    toObservable(this.filter)
      .pipe(takeUntilDestroyed())
      .subscribe((filter) => {
        // Only when the form says something else: rewriting it with the trimmed value would
        // eat the space the user just typed ("my job" becoming "myjob").
        if (filterKey(fromForm(this.filters.getRawValue())) !== filterKey(filter)) {
          this.filters.setValue(toForm(filter), { emitEvent: false });
        }
      });
    this.filters.valueChanges
      // debounce(timer) rather than debounceTime: same effect, and it runs on timers alone.
      .pipe(
        debounce(() => timer(FILTER_DEBOUNCE_MS)),
        takeUntilDestroyed(),
      )
      .subscribe(() => this.applyFilter(fromForm(this.filters.getRawValue())));

    combineLatest([toObservable(this.query), this.refresh$.pipe(startWith(undefined))])
      .pipe(
        // A refresh (after a bulk action) restarts polling with an immediate request.
        switchMap(([query]) =>
          query === null
            ? EMPTY
            : this.turns
                .poll(() => toOutcome(this.jobApi.listJobs(query)))
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
      const state = this.state();
      this.previousCursors.update((stack) => [...stack, state.cursor]);
      this.navigate({ ...state, cursor, page: state.page + 1 });
    }
  }

  protected previousPage(): void {
    const state = this.state();
    if (state.page <= 1) {
      return;
    }
    const stack = this.previousCursors();
    // After a reload the earlier cursors are gone: Previous goes back to the first page.
    const cursor = stack.length > 0 ? stack[stack.length - 1] : null;
    this.previousCursors.set(stack.slice(0, -1));
    this.navigate({ ...state, cursor, page: cursor === null ? 1 : state.page - 1 });
  }

  protected clearFilters(): void {
    this.applyFilter(EMPTY_JOB_FILTER);
  }

  /** The JobId search box: straight to the job's page. */
  protected goToJob(): void {
    const id = this.jobIdSearch.value.trim();
    if (id !== '') {
      void this.router.navigate(['/jobs', id]);
    }
  }

  protected refreshNow(): void {
    this.refresh$.next();
  }

  private applyFilter(filter: JobFilter): void {
    if (filterKey(filter) === filterKey(this.filter())) {
      return;
    }
    this.previousCursors.set([]);
    this.navigate({ filter, cursor: null, page: 1 });
  }

  private navigate(state: ListState): void {
    void this.router.navigate([], { relativeTo: this.route, queryParams: toListParams(state) });
  }
}

interface FilterForm {
  status: JobStatus | '';
  type: string;
  name: string;
  nameMatch: NameMatch;
  createdAfter: string;
  createdBefore: string;
  order: JobOrder;
}

function toForm(filter: JobFilter): FilterForm {
  return {
    status: filter.status ?? '',
    type: filter.type ?? '',
    name: filter.name ?? '',
    nameMatch: filter.nameMatch,
    createdAfter: toLocalInput(filter.createdAfter),
    createdBefore: toLocalInput(filter.createdBefore),
    order: filter.order,
  };
}

function fromForm(form: FilterForm): JobFilter {
  const name = form.name.trim();
  return {
    status: form.status === '' ? null : form.status,
    type: form.type === '' ? null : form.type,
    name: name === '' ? null : name,
    nameMatch: form.nameMatch,
    createdAfter: fromLocalInput(form.createdAfter),
    createdBefore: fromLocalInput(form.createdBefore),
    order: form.order,
  };
}
