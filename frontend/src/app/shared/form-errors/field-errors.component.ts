import { ChangeDetectionStrategy, Component, input } from '@angular/core';

/** One message shown under a field; `testId` is `error-<API field path>`. */
export interface FieldMessage {
  testId: string;
  message: string;
  /** An API field the message is about, named before it (`size`: too large), if not the field. */
  field?: string | null;
}

/**
 * The messages under one form field. Its `id` is what the field's `aria-describedby` points
 * at, so a screen reader reads the error with the field (WCAG 3.3.1).
 */
@Component({
  selector: 'app-field-errors',
  template: `
    @for (e of errors(); track $index) {
      <p class="field-error" [attr.data-testid]="e.testId">
        @if (e.field) {
          <code>{{ e.field }}</code>:
        }
        {{ e.message }}
      </p>
    }
  `,
  styles: ':host { display: block; }',
  host: { '[attr.id]': 'id()' },
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class FieldErrorsComponent {
  readonly id = input<string | null>(null);
  readonly errors = input.required<readonly FieldMessage[]>();
}
