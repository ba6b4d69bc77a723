import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

import { JobStatus } from '../../core/models/job.model';

/** A coloured pill whose text is exactly the status string (e.g. `COMPLETED`). */
@Component({
  selector: 'app-status-badge',
  template: '{{ status() }}',
  styleUrl: './status-badge.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
  // No role=status: a list of badges made one live region each (issue 15); a page that
  // announces a status has its own single region.
  host: {
    '[class]': 'statusClass()',
    '[attr.data-status]': 'status()',
  },
})
export class StatusBadgeComponent {
  readonly status = input.required<JobStatus>();

  protected readonly statusClass = computed(
    () => `status-badge status-${this.status().toLowerCase()}`,
  );
}
