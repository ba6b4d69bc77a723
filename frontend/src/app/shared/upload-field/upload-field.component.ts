import {
  ChangeDetectionStrategy,
  Component,
  computed,
  ElementRef,
  input,
  output,
  viewChild,
} from '@angular/core';
import { DecimalPipe } from '@angular/common';

import { FileUpload } from '../../core/services/file-upload';
import { FieldErrorsComponent, FieldMessage } from '../form-errors/field-errors.component';
import { ProgressBarComponent } from '../progress-bar/progress-bar.component';
import { formatBytes } from './format-bytes';

/**
 * A form's file input for a file uploaded straight to S3 on submit (the form's FileUpload,
 * core/services/file-upload.ts, holds the file and the upload; the form handles `fileChange`):
 * the chosen file's name and size, the upload's progress bar, and the field's error messages.
 * The input's id is also its `data-testid`. Content marked `emptyHint` shows while no file is chosen;
 * other content (e.g. a format select) follows the hint.
 */
@Component({
  selector: 'app-upload-field',
  imports: [DecimalPipe, FieldErrorsComponent, ProgressBarComponent],
  templateUrl: './upload-field.component.html',
  styleUrl: './upload-field.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class UploadFieldComponent {
  readonly inputId = input.required<string>();
  readonly label = input.required<string>();
  readonly accept = input.required<string>();
  /** The chosen file and its upload (the form's; the field only shows them). */
  readonly upload = input.required<FileUpload>();
  readonly disabled = input(false);
  readonly errors = input<readonly FieldMessage[]>([]);
  /** The id of the messages' container (the input's aria-describedby points at it). */
  readonly errorsId = input<string | null>(null);
  /** Said after "goes straight to storage when you submit" about a chosen file. */
  readonly storageNote = input('.');
  /** A button that clears the chosen file, with this text; none when null. */
  readonly clearLabel = input<string | null>(null);
  /** The chosen file, or null once cleared. */
  readonly fileChange = output<File | null>();

  private readonly fileInput = viewChild.required<ElementRef<HTMLInputElement>>('fileInput');

  protected readonly formatBytes = formatBytes;
  protected readonly invalid = computed(() => this.errors().length > 0);
  protected readonly describedBy = computed(() => (this.invalid() ? this.errorsId() : null));
  protected readonly file = computed(() => this.upload().file());
  protected readonly progress = computed(() => this.upload().progress());
  protected readonly percent = computed(() => this.upload().percent());

  protected choose(event: Event): void {
    const input = event.target as HTMLInputElement;
    this.fileChange.emit(input.files?.item(0) ?? null);
  }

  protected clear(): void {
    this.fileInput().nativeElement.value = '';
    this.fileChange.emit(null);
  }
}
