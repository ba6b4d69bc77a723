import { ChangeDetectionStrategy, Component, input } from '@angular/core';

import { ApiError, ProblemFieldError } from '../../core/models/problem.model';

/** A failed submit's message for the top of the form, with the errors no field shows. */
export interface FormError {
  message: string;
  fields: ProblemFieldError[];
}

/**
 * What the top of a form says about a failed submit: the problem's title and detail (with
 * Retry-After) and the errors naming no field of the form; nothing for a 422 whose errors
 * all show under their fields.
 */
export function formErrorOf({
  error,
  errors,
  isShownByField,
}: {
  /** The failed submit's problem, or null. */
  error: ApiError | null;
  /** Its field errors still standing (the user's edits clear theirs). */
  errors: readonly ProblemFieldError[];
  isShownByField: (path: string) => boolean;
}): FormError | null {
  if (error === null) {
    return null;
  }
  const fields = errors.filter((e) => !isShownByField(e.field));
  if (error.status === 422 && fields.length === 0 && errors.length > 0) {
    return null;
  }
  const retry =
    error.retryAfterSeconds !== null ? ` Try again in ${error.retryAfterSeconds} s.` : '';
  return { message: `${error.title}: ${error.detail}${retry}`, fields };
}

/** The alert at the top of a form after a failed submit (focusable: focus lands on it). */
@Component({
  selector: 'app-form-error',
  template: `
    @if (error(); as general) {
      <div class="alert alert-error" data-testid="form-error" role="alert" tabindex="-1">
        <span>{{ general.message }}</span>
        @if (general.fields.length > 0) {
          <ul>
            @for (e of general.fields; track $index) {
              <li>
                @if (e.field) {
                  <code>{{ e.field }}</code>:
                }
                {{ e.message }}
              </li>
            }
          </ul>
        }
      </div>
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class FormErrorComponent {
  readonly error = input<FormError | null>(null);
}
