import {
  ChangeDetectionStrategy,
  Component,
  computed,
  DestroyRef,
  inject,
  OnInit,
  signal,
} from '@angular/core';
import { DecimalPipe } from '@angular/common';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { FormControl, FormGroup, ReactiveFormsModule, Validators } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import { Observable, switchMap } from 'rxjs';

import {
  Batch,
  BATCH_LIMITS,
  BatchFormat,
  CreateBatchRequest,
} from '../../core/models/batch.model';
import { BatchApiService } from '../../core/services/batch-api.service';
import { FileUpload } from '../../core/services/file-upload';
import { JobTypeOptions } from '../../core/services/job-type-options';
import { OwnerService } from '../../core/services/owner.service';
import {
  FieldErrorsComponent,
  FieldMessage,
} from '../../shared/form-errors/field-errors.component';
import { FormErrorComponent } from '../../shared/form-errors/form-error.component';
import { InvalidItemsComponent } from '../../shared/invalid-items/invalid-items.component';
import { UploadFieldComponent } from '../../shared/upload-field/upload-field.component';
import { FormSubmission } from '../job-submission/form-submission';
import { JobTypeFieldComponent } from '../job-submission/job-type-field.component';
import { JobTypesErrorComponent } from '../job-submission/job-types-error.component';
import { describeErrors, nameControl, typeControl } from '../job-submission/job-form.validators';
import {
  describeBatchErrors,
  exampleItems,
  formatOf,
  itemsValidator,
  parseItems,
  webhookUrlValidator,
} from './batch-form.validators';

/** Where the items come from: the textarea, or a file uploaded to S3 first. */
export type BatchSource = 'items' | 'file';

/** Fields that show messages under them. */
export type BatchFormField = 'name' | 'type' | 'items' | 'file' | 'webhookUrl';

interface BatchForm {
  name: FormControl<string>;
  type: FormControl<string>;
  source: FormControl<BatchSource>;
  items: FormControl<string>;
  format: FormControl<BatchFormat>;
  allOrNothing: FormControl<boolean>;
  webhookUrl: FormControl<string>;
}

/** What the upload is declared as, so S3 serves the input back with its real type. */
const CONTENT_TYPES: Readonly<Record<BatchFormat, string>> = {
  jsonl: 'application/x-ndjson',
  csv: 'text/csv',
};

const FIELDS: readonly BatchFormField[] = ['name', 'type', 'items', 'file', 'webhookUrl'];

/**
 * The batch form (`/batches/new`): name, type, the items inline (a JSON array) or a JSON
 * Lines / CSV file uploaded straight to S3 with a progress bar, all-or-nothing and an
 * optional webhook. A batch created with invalid items stays here to list them by line.
 */
@Component({
  selector: 'app-batch-form',
  imports: [
    InvalidItemsComponent,
    ReactiveFormsModule,
    RouterLink,
    DecimalPipe,
    FieldErrorsComponent,
    FormErrorComponent,
    JobTypeFieldComponent,
    JobTypesErrorComponent,
    UploadFieldComponent,
  ],
  templateUrl: './batch-form.component.html',
  styleUrls: ['../../shared/submit-form/submit-form.css', './batch-form.component.css'],
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class BatchFormComponent implements OnInit {
  private readonly batchApi = inject(BatchApiService);
  private readonly owner = inject(OwnerService);
  private readonly router = inject(Router);
  private readonly destroyRef = inject(DestroyRef);

  protected readonly ownerId = this.owner.ownerId;
  protected readonly limits = BATCH_LIMITS;

  protected readonly form = new FormGroup<BatchForm>({
    name: nameControl(BATCH_LIMITS.nameMaxLength),
    type: typeControl(),
    source: new FormControl<BatchSource>('items', { nonNullable: true }),
    items: new FormControl('', {
      nonNullable: true,
      validators: [Validators.required, itemsValidator],
    }),
    format: new FormControl<BatchFormat>('jsonl', { nonNullable: true }),
    allOrNothing: new FormControl(false, { nonNullable: true }),
    webhookUrl: new FormControl('', { nonNullable: true, validators: [webhookUrlValidator] }),
  });

  protected readonly types = new JobTypeOptions();
  private readonly jobTypes = this.types.types;
  protected readonly typesState = this.types.state;
  /** The file of items (uploaded on submit), and how far its upload is. */
  protected readonly upload = new FileUpload();
  protected readonly selectedFile = this.upload.file;
  /** A batch created with invalid items: listed here, with a link to its page. */
  protected readonly created = signal<Batch | null>(null);
  private readonly submission = new FormSubmission<BatchFormField>(fieldFor);
  protected readonly submitting = this.submission.submitting;

  private readonly formEvents = toSignal(this.form.events, { initialValue: null });
  protected readonly source = toSignal(this.form.controls.source.valueChanges, {
    initialValue: 'items' as BatchSource,
  });
  private readonly typeName = toSignal(this.form.controls.type.valueChanges, { initialValue: '' });
  protected readonly selectedType = computed(
    () => this.jobTypes().find((t) => t.type === this.typeName()) ?? null,
  );
  /** Re-parsed only when the items change (up to 1 MiB of JSON), not on every form event. */
  private readonly itemsText = toSignal(this.form.controls.items.valueChanges, {
    initialValue: '',
  });
  protected readonly itemCount = computed(() => parseItems(this.itemsText())?.length ?? null);
  protected readonly uploading = computed(() => this.submitting() && this.upload.inProgress());

  /**
   * Messages per field: client-side validation first, otherwise the API's `errors` (an
   * upload's, e.g. `size`, under the file, naming the API field).
   */
  protected readonly fieldErrors = computed((): Record<BatchFormField, FieldMessage[]> => {
    this.formEvents();
    const result = {} as Record<BatchFormField, FieldMessage[]>;
    for (const field of FIELDS) {
      const message = this.clientMessage(field);
      const errors = message ? [{ field, message }] : this.submission.errorsFor(field);
      result[field] = errors.map((e) =>
        field === 'file'
          ? { testId: 'error-file', message: e.message, field: e.field === 'file' ? null : e.field }
          : { testId: `error-${e.field}`, message: e.message },
      );
    }
    return result;
  });

  /** Problem details not tied to a field of the form, with any errors naming other fields. */
  protected readonly generalError = this.submission.formError;

  constructor() {
    this.form.controls.type.valueChanges
      .pipe(takeUntilDestroyed())
      .subscribe((type) => this.applyTypeExample(type));
    this.form.controls.source.valueChanges
      .pipe(takeUntilDestroyed())
      .subscribe((source) => this.applySource(source));
    this.submission.watch(
      this.form,
      FIELDS.map((field) => [field, field === 'file' ? null : this.form.controls[field]] as const),
    );
  }

  ngOnInit(): void {
    this.loadJobTypes();
  }

  protected loadJobTypes(): void {
    this.types.load({ control: this.form.controls.type });
  }

  protected resetItems(): void {
    this.applyTypeExample(this.form.controls.type.value, true);
  }

  protected chooseFile(file: File | null): void {
    this.upload.choose(file);
    this.clearServerErrors('file');
    this.submission.idempotencyKeys.reset();
    if (file !== null) {
      this.form.controls.format.setValue(formatOf(file.name));
    }
  }

  protected submit(): void {
    this.submission.attempted.set(true);
    const ownerId = this.ownerId();
    if (this.submitting() || ownerId === null) {
      return;
    }
    const file = this.source() === 'file' ? this.selectedFile() : null;
    if (this.form.invalid || (this.source() === 'file' && file === null)) {
      this.form.markAllAsTouched();
      return;
    }
    const items = file === null ? parseItems(this.form.controls.items.value) : null;
    if (file === null && items === null) {
      return;
    }
    this.submission.start();
    this.created.set(null);
    const value = this.form.getRawValue();
    const base = {
      name: value.name.trim(),
      type: value.type,
      ownerId,
      allOrNothing: value.allOrNothing,
      webhookUrl: value.webhookUrl.trim() || null,
    };
    const create = (request: CreateBatchRequest): Observable<Batch> =>
      this.batchApi.createBatch(request, this.submission.idempotencyKeys.keyFor(request));
    // With a file: upload it to S3 first (progress shown), then submit the batch naming it.
    const batch$ =
      file === null
        ? create({ ...base, items: items! })
        : this.upload
            .keyFor(file, ownerId, CONTENT_TYPES[value.format])
            .pipe(switchMap((key) => create({ ...base, object: key, format: value.format })));
    batch$.pipe(takeUntilDestroyed(this.destroyRef)).subscribe({
      next: (batch) => {
        this.submission.succeeded();
        this.submitting.set(false);
        if (batch.invalid.count > 0) {
          this.created.set(batch); // list the refused lines here first
        } else {
          void this.router.navigate(['/batches', batch.id]);
        }
      },
      error: (error: unknown) => {
        this.submission.failed(error);
        this.upload.submitFailed();
      },
    });
  }

  private clientMessage(field: BatchFormField): string | null {
    if (field === 'file') {
      return this.submission.attempted() && this.source() === 'file' && this.selectedFile() === null
        ? 'Choose a JSON Lines or CSV file.'
        : null;
    }
    const control = this.form.controls[field];
    if (control.disabled || control.valid || !(this.submission.attempted() || control.touched)) {
      return null;
    }
    return describeBatchErrors(control.errors) ?? describeErrors(control.errors);
  }

  private clearServerErrors(field: BatchFormField): void {
    this.submission.clearErrors(field);
  }

  private applySource(source: BatchSource): void {
    const items = this.form.controls.items;
    if (source === 'file') {
      items.disable({ emitEvent: false });
    } else {
      items.enable({ emitEvent: false });
    }
    this.clearServerErrors(source === 'file' ? 'items' : 'file');
  }

  /** Puts the type's example (three times) in the textarea, unless the user typed items. */
  private applyTypeExample(typeName: string, force = false): void {
    const jobType = this.jobTypes().find((t) => t.type === typeName);
    const items = this.form.controls.items;
    if (jobType !== undefined && (force || items.pristine)) {
      items.setValue(exampleItems(jobType.example));
      items.markAsPristine();
    }
  }
}

/** Which field shows an API error: `items[3].text` under the items, `object` under the file. */
function fieldFor(path: string): BatchFormField | null {
  if (path === 'name' || path === 'type' || path === 'webhookUrl') {
    return path;
  }
  if (path === 'items' || path.startsWith('items[') || path.startsWith('items.')) {
    return 'items';
  }
  if (['object', 'format', 'filename', 'contentType', 'size'].includes(path)) {
    return 'file';
  }
  return null;
}
