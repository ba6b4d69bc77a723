import { ChangeDetectionStrategy, Component, computed, effect, input, output } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { FormControl, FormGroup, ReactiveFormsModule, Validators } from '@angular/forms';

import { JOB_LIMITS } from '../../core/models/job-type.model';
import { API_KEY_MAX_LENGTH, isValidApiKey } from '../../core/services/api-key.service';

/**
 * The "who am I" box of the header. Presentational: it shows `ownerId` and the optional
 * `apiKey`, and when the user presses Enter or clicks Save it emits `ownerIdChange` with a
 * valid, trimmed id (if the id changed) and `apiKeyChange` with the trimmed key (if it
 * changed; an empty string clears the key).
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
  readonly apiKey = input<string | null>(null);
  /** True when the server answered 401: the API key box asks for a key. */
  readonly apiKeyRequired = input<boolean>(false);
  readonly ownerIdChange = output<string>();
  readonly apiKeyChange = output<string>();

  protected readonly maxLength = JOB_LIMITS.ownerIdMaxLength;
  protected readonly apiKeyMaxLength = API_KEY_MAX_LENGTH;
  protected readonly control = new FormControl<string>('', {
    nonNullable: true,
    validators: [
      Validators.required,
      Validators.maxLength(JOB_LIMITS.ownerIdMaxLength),
      Validators.pattern(JOB_LIMITS.ownerIdPattern),
    ],
  });
  protected readonly apiKeyControl = new FormControl<string>('', { nonNullable: true });
  protected readonly form = new FormGroup({ ownerId: this.control, apiKey: this.apiKeyControl });

  private readonly value = toSignal(this.control.valueChanges, { initialValue: '' });
  private readonly apiKeyValue = toSignal(this.apiKeyControl.valueChanges, { initialValue: '' });

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

  private readonly apiKeyTrimmed = computed(() => this.apiKeyValue().trim());
  private readonly apiKeyChanged = computed(() => this.apiKeyTrimmed() !== (this.apiKey() ?? ''));
  protected readonly showApiKeyError = computed(
    () => this.apiKeyTrimmed() !== '' && !isValidApiKey(this.apiKeyTrimmed()),
  );
  protected readonly showApiKeyRequired = computed(
    () => this.apiKeyRequired() && !this.apiKeyChanged() && !this.showError(),
  );
  protected readonly apiKeyRequiredText = computed(() =>
    this.apiKey() === null ? 'This server needs an API key' : 'The server rejected this API key',
  );
  private readonly ownerChanged = computed(() => this.isValid() && !this.isSaved());
  protected readonly canSave = computed(
    () =>
      !this.showError() && !this.showApiKeyError() && (this.ownerChanged() || this.apiKeyChanged()),
  );

  constructor() {
    effect(() => {
      this.control.setValue(this.ownerId() ?? '');
    });
    effect(() => {
      this.apiKeyControl.setValue(this.apiKey() ?? '');
    });
  }

  protected save(): void {
    if (!this.canSave()) {
      return;
    }
    if (this.ownerChanged()) {
      this.ownerIdChange.emit(this.trimmed());
    }
    if (this.apiKeyChanged()) {
      this.apiKeyChange.emit(this.apiKeyTrimmed());
    }
  }
}
