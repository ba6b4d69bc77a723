import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { FormControl, ReactiveFormsModule } from '@angular/forms';

import { JobTypeOptions } from '../../core/services/job-type-options';
import {
  FieldErrorsComponent,
  FieldMessage,
} from '../../shared/form-errors/field-errors.component';

/**
 * The Type select of the submit forms (a job's, a batch's): the job types as they load, and
 * the field's messages. Its host is the form's `.field.type-field` box; the form shows the
 * types' loading error (JobTypesErrorComponent) under its row.
 */
@Component({
  selector: 'app-job-type-field',
  imports: [ReactiveFormsModule, FieldErrorsComponent],
  template: `
    <label [for]="inputId()">Type</label>
    <select
      class="input"
      [id]="inputId()"
      [attr.data-testid]="inputId()"
      [formControl]="control()"
      [class.invalid]="invalid()"
      [attr.aria-invalid]="invalid()"
      [attr.aria-describedby]="invalid() ? errorsId() : null"
    >
      @if (options().state() === 'loading') {
        <option value="" disabled>Loading…</option>
      }
      @for (jobType of options().types(); track jobType.type) {
        <option [value]="jobType.type">{{ jobType.type }}</option>
      }
    </select>
    <app-field-errors [id]="errorsId()" [errors]="errors()" />
  `,
  host: { class: 'field type-field' },
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class JobTypeFieldComponent {
  /** The select's id, also its `data-testid`. */
  readonly inputId = input.required<string>();
  readonly control = input.required<FormControl<string>>();
  readonly options = input.required<JobTypeOptions>();
  readonly errors = input<readonly FieldMessage[]>([]);
  readonly errorsId = input<string | null>(null);

  protected readonly invalid = computed(() => this.errors().length > 0);
}
