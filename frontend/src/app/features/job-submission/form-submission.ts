import { computed, DestroyRef, inject, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { AbstractControl } from '@angular/forms';

import { toApiError } from '../../core/interceptors/problem.interceptor';
import { ApiError, ProblemFieldError } from '../../core/models/problem.model';
import { formErrorOf } from '../../shared/form-errors/form-error.component';
import { IdempotencyKeyTracker, mayHaveBeenCreated } from './idempotency-key';

/**
 * Where a submit form's request stands (the job form and the batch form): whether it is
 * under way or was attempted, the failed request's problem and its field errors (each cleared
 * as the user edits that field), and the Idempotency-Key a retry of the same request reuses.
 * `fieldFor` maps an API field path to the form's field that shows it (null: none does).
 * Create it in a field initializer (it uses `inject`).
 */
export class FormSubmission<F extends string> {
  readonly submitting = signal(false);
  /** True after the first submit: client-side errors show on untouched fields from then on. */
  readonly attempted = signal(false);
  /** Same key for a retry of the same request; a new one after an edit or a success. */
  readonly idempotencyKeys = new IdempotencyKeyTracker();
  private readonly destroyRef = inject(DestroyRef);
  private readonly apiError = signal<ApiError | null>(null);
  private readonly serverErrors = signal<readonly ProblemFieldError[]>([]);

  /** Problem details not tied to a field of the form, with any errors naming other fields. */
  readonly formError = computed(() =>
    formErrorOf({
      error: this.apiError(),
      errors: this.serverErrors(),
      isShownByField: (path) => this.fieldFor(path) !== null,
    }),
  );

  constructor(private readonly fieldFor: (path: string) => F | null) {}

  /**
   * Follows the form's edits: editing a field clears the API's errors about it, and any edit
   * makes the next submit a new request (a new key).
   */
  watch(form: AbstractControl, fields: ReadonlyArray<readonly [F, AbstractControl | null]>): void {
    for (const [field, control] of fields) {
      control?.valueChanges
        .pipe(takeUntilDestroyed(this.destroyRef))
        .subscribe(() => this.clearErrors(field));
    }
    form.valueChanges
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe(() => this.idempotencyKeys.reset());
  }

  /** The API's errors still standing for `field`. */
  errorsFor(field: F): ProblemFieldError[] {
    return this.serverErrors().filter((e) => this.fieldFor(e.field) === field);
  }

  start(): void {
    this.submitting.set(true);
    this.serverErrors.set([]);
    this.apiError.set(null);
  }

  succeeded(): void {
    this.idempotencyKeys.reset();
  }

  /** Shows a failed request's problem; a definite refusal makes the next attempt a new key. */
  failed(error: unknown): void {
    const apiError = toApiError(error);
    if (!mayHaveBeenCreated(apiError)) {
      this.idempotencyKeys.reset();
    }
    this.submitting.set(false);
    this.apiError.set(apiError);
    this.serverErrors.set(apiError.errors);
  }

  /** The user edited `field`: the API's errors about it no longer apply. */
  clearErrors(field: F): void {
    const remaining = this.serverErrors().filter((e) => this.fieldFor(e.field) !== field);
    if (remaining.length !== this.serverErrors().length) {
      this.serverErrors.set(remaining);
    }
  }
}
