import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

import { BatchStatus } from '../../core/models/batch.model';

/**
 * A coloured pill for a batch's status. `data-status` carries the API's string
 * (`COMPLETED_WITH_FAILURES`); the text reads it with spaces so it can wrap on a phone.
 */
@Component({
  selector: 'app-batch-badge',
  template: '{{ text() }}',
  styleUrl: './batch-badge.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: {
    role: 'status',
    '[class]': 'statusClass()',
    '[attr.data-status]': 'status()',
  },
})
export class BatchBadgeComponent {
  readonly status = input.required<BatchStatus>();

  protected readonly text = computed(() => this.status().replaceAll('_', ' '));
  protected readonly statusClass = computed(
    () => `batch-badge batch-${this.status().toLowerCase().replaceAll('_', '-')}`,
  );
}
