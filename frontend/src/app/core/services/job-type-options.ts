import { DestroyRef, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { FormControl } from '@angular/forms';

import { toApiError } from '../interceptors/problem.interceptor';
import { JobType } from '../models/job-type.model';
import { JobTypeService } from './job-type.service';

export type JobTypesState = 'loading' | 'ready' | 'error';

/**
 * The job types a form offers in its Type select (`GET /api/job-types`), with the state the
 * form shows (Loading…, or the error and a Retry). Create one per form in a field
 * initializer (it uses `inject`); loading ends with the form's destruction.
 */
export class JobTypeOptions {
  private readonly jobTypeService = inject(JobTypeService);
  private readonly destroyRef = inject(DestroyRef);

  readonly types = signal<JobType[]>([]);
  readonly state = signal<JobTypesState>('loading');
  readonly error = signal<string | null>(null);

  /**
   * Loads the types; a `control` holding none of them gets the first, then `loaded` runs.
   */
  load({ control, loaded }: { control: FormControl<string>; loaded?: () => void }): void {
    this.state.set('loading');
    this.jobTypeService
      .getJobTypes()
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (types) => {
          this.types.set(types);
          this.state.set('ready');
          if (types.length > 0 && !types.some((t) => t.type === control.value)) {
            control.setValue(types[0].type);
          }
          loaded?.();
        },
        error: (error: unknown) => {
          this.state.set('error');
          this.error.set(toApiError(error).detail);
        },
      });
  }
}
