import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';

import { JobTypeOptions } from '../../core/services/job-type-options';

/** Under a submit form's Type row: the job types could not be loaded, with a Retry. */
@Component({
  selector: 'app-job-types-error',
  template: `
    @if (options().state() === 'error') {
      <div class="alert alert-error" data-testid="job-types-error" role="alert">
        Could not load the job types: {{ options().error() }}
        <button class="btn btn-small" type="button" (click)="retry.emit()">Retry</button>
      </div>
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class JobTypesErrorComponent {
  readonly options = input.required<JobTypeOptions>();
  readonly retry = output<void>();
}
