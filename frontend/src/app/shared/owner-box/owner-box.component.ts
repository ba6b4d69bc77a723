import { ChangeDetectionStrategy, Component, computed, effect, input, output } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { FormControl, FormGroup, ReactiveFormsModule, Validators } from '@angular/forms';

import { JOB_LIMITS } from '../../core/models/job-type.model';

/**
 * The "who am I" box of the header. Presentational: it shows `ownerId` and emits
 * `ownerIdChange` with a valid, trimmed id when the user presses Enter or clicks Save.
 */
@Component({
  selector: 'app-owner-box',
  imports: [ReactiveFormsModule],
  templateUrl: './owner-box.component.html',
  styleUrl: './owner-box.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class OwnerBoxComponent {
  readonly ownerId = input<string | null>(null);
  readonly ownerIdChange = output<string>();

  protected readonly maxLength = JOB_LIMITS.ownerIdMaxLength;
  protected readonly control = new FormControl<string>('', {
    nonNullable: true,
    validators: [
      Validators.required,
      Validators.maxLength(JOB_LIMITS.ownerIdMaxLength),
      Validators.pattern(JOB_LIMITS.ownerIdPattern),
    ],
  });
  protected readonly form = new FormGroup({ ownerId: this.control });

  private readonly value = toSignal(this.control.valueChanges, { initialValue: '' });

  protected readonly trimmed = computed(() => this.value().trim());
  protected readonly isValid = computed(
    () =>
      this.trimmed().length > 0 &&
      this.trimmed().length <= JOB_LIMITS.ownerIdMaxLength &&
      JOB_LIMITS.ownerIdPattern.test(this.trimmed()),
  );
  protected readonly isSaved = computed(
    () => this.ownerId() !== null && this.trimmed() === this.ownerId(),
  );
  protected readonly showError = computed(() => this.value() !== '' && !this.isValid());
  protected readonly canSave = computed(() => this.isValid() && !this.isSaved());

  constructor() {
    effect(() => {
      this.control.setValue(this.ownerId() ?? '');
    });
  }

  protected save(): void {
    if (this.canSave()) {
      this.ownerIdChange.emit(this.trimmed());
    }
  }
}
