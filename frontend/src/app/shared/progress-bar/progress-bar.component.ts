import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

/** A horizontal progress bar (0..100). Its height is fixed so polling never shifts the layout. */
@Component({
  selector: 'app-progress-bar',
  template: `<div class="fill" [style.width.%]="clamped()"></div>`,
  styleUrl: './progress-bar.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: {
    role: 'progressbar',
    'aria-valuemin': '0',
    'aria-valuemax': '100',
    '[attr.aria-valuenow]': 'clamped()',
    '[attr.aria-label]': 'label()',
  },
})
export class ProgressBarComponent {
  readonly value = input.required<number>();
  readonly label = input<string>('Progress');

  protected readonly clamped = computed(() => Math.min(100, Math.max(0, Math.round(this.value()))));
}
