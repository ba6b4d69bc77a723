import {
  ChangeDetectionStrategy,
  Component,
  computed,
  DestroyRef,
  effect,
  inject,
  input,
  output,
  signal,
} from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { FormsModule } from '@angular/forms';

import { toApiError } from '../../core/interceptors/problem.interceptor';
import { BulkActionName, BulkRequest, BulkResult, JobFilter } from '../../core/models/job.model';
import { JobApiService } from '../../core/services/job-api.service';

/** Most jobs one bulk action may touch (the API's bound). */
export const BULK_LIMIT = 1000;

const VERBS: Record<BulkActionName, { verb: string; done: string }> = {
  cancel: { verb: 'Cancel', done: 'Cancelled' },
  retry: { verb: 'Retry', done: 'Retried' },
};

/**
 * Cancel or retry every job matching the list's filter (issue 15). Always a dry-run count
 * first; executing echoes that count (`expectedCount`), so if jobs changed in between the
 * API answers 409 and the user counts again. Any change of filter or action starts over.
 */
@Component({
  selector: 'app-bulk-actions',
  imports: [FormsModule],
  templateUrl: './bulk-actions.component.html',
  styleUrl: './bulk-actions.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class BulkActionsComponent {
  readonly ownerId = input.required<string>();
  readonly filter = input.required<JobFilter>();
  /** Emits after jobs were acted on, so the list refreshes. */
  readonly acted = output<BulkResult>();

  private readonly jobApi = inject(JobApiService);
  private readonly destroyRef = inject(DestroyRef);

  protected readonly action = signal<BulkActionName>('cancel');
  protected readonly busy = signal(false);
  protected readonly dryRun = signal<BulkResult | null>(null);
  protected readonly done = signal<BulkResult | null>(null);
  protected readonly error = signal<string | null>(null);
  protected readonly limit = BULK_LIMIT;

  protected readonly verb = computed(() => VERBS[this.action()].verb);
  protected readonly summary = computed(() => {
    const filter = this.filter();
    const parts = [
      filter.status ? `status ${filter.status}` : 'any status',
      filter.type ? `type ${filter.type}` : null,
      filter.name
        ? `name ${filter.nameMatch === 'contains' ? 'containing' : 'starting with'} “${filter.name}”`
        : null,
      filter.createdAfter
        ? `created after ${new Date(filter.createdAfter).toLocaleString()}`
        : null,
      filter.createdBefore
        ? `created before ${new Date(filter.createdBefore).toLocaleString()}`
        : null,
    ];
    return parts.filter((p) => p !== null).join(', ');
  });
  protected readonly doneMessage = computed(() => {
    const result = this.done();
    return result === null ? null : `${VERBS[result.action].done} ${result.acted} job(s).`;
  });

  constructor() {
    // A count is only good for the filter and action it was made for.
    effect(() => {
      this.filter();
      this.ownerId();
      this.action();
      this.dryRun.set(null);
      this.error.set(null);
    });
  }

  protected setAction(action: BulkActionName): void {
    this.action.set(action);
    this.done.set(null);
  }

  protected count(): void {
    this.run(true);
  }

  protected confirm(): void {
    this.run(false);
  }

  protected dismiss(): void {
    this.dryRun.set(null);
  }

  private run(dryRun: boolean): void {
    const counted = this.dryRun();
    if (this.busy() || (!dryRun && counted === null)) {
      return;
    }
    this.busy.set(true);
    this.error.set(null);
    this.done.set(null);
    const filter = this.filter();
    this.jobApi
      .bulk({
        action: this.action(),
        filter: bulkFilter(filter, this.ownerId()),
        dryRun,
        limit: BULK_LIMIT,
        ...(dryRun ? {} : { expectedCount: counted!.matched }),
      })
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (result) => {
          this.busy.set(false);
          if (dryRun) {
            this.dryRun.set(result);
          } else {
            this.dryRun.set(null);
            this.done.set(result);
            this.acted.emit(result);
          }
        },
        error: (error: unknown) => {
          this.busy.set(false);
          const apiError = toApiError(error);
          this.dryRun.set(null);
          this.error.set(
            apiError.status === 409
              ? `The matching jobs changed since the count (${apiError.detail}). Count again.`
              : `Could not ${this.verb().toLowerCase()}: ${apiError.detail}`,
          );
        },
      });
  }
}

/** The list filter as the bulk body takes it: set fields only, and no `order` (a bulk
 * action has none; the API refuses unknown fields). */
export function bulkFilter(filter: JobFilter, ownerId: string): BulkRequest['filter'] {
  const body: BulkRequest['filter'] = { ownerId };
  if (filter.status) body.status = filter.status;
  if (filter.type) body.type = filter.type;
  if (filter.name) {
    body.name = filter.name;
    body.nameMatch = filter.nameMatch;
  }
  if (filter.createdAfter) body.createdAfter = filter.createdAfter;
  if (filter.createdBefore) body.createdBefore = filter.createdBefore;
  return body;
}
