import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';

import { ClockService } from '../../core/services/clock.service';
import { formatAbsolute, formatRelative } from './relative-time';

/** A `<time>` reading "2 min ago", with the absolute time and its time zone on hover. */
@Component({
  selector: 'app-relative-time',
  template: `<time [attr.datetime]="at()" [title]="absolute()">{{ relative() }}</time>`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RelativeTimeComponent {
  /** ISO 8601. */
  readonly at = input.required<string>();
  private readonly clock = inject(ClockService);

  private readonly atMs = computed(() => Date.parse(this.at()));
  protected readonly relative = computed(() =>
    formatRelative(this.atMs(), Math.max(this.clock.now(), Date.now())),
  );
  protected readonly absolute = computed(() => formatAbsolute(this.atMs()));
}
