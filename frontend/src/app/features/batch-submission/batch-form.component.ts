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
import { filter, map, Observable, of, switchMap, tap } from 'rxjs';

import { toApiError } from '../../core/interceptors/problem.interceptor';
import {
  Batch,
  BATCH_LIMITS,
  BatchFormat,
  CreateBatchRequest,
} from '../../core/models/batch.model';
import { JobType } from '../../core/models/job-type.model';
import { ApiError, ProblemFieldError } from '../../core/models/problem.model';
import { UploadProgress } from '../../core/models/upload.model';
import { BatchApiService } from '../../core/services/batch-api.service';
import { JobTypeService } from '../../core/services/job-type.service';
import { OwnerService } from '../../core/services/owner.service';
import { UploadApiService } from '../../core/services/upload-api.service';
import { ProgressBarComponent } from '../../shared/progress-bar/progress-bar.component';
import { IdempotencyKeyTracker } from '../job-submission/idempotency-key';
import { describeErrors, notBlankValidator } from '../job-submission/job-form.validators';
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

type TypesState = 'loading' | 'ready' | 'error';

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
  imports: [ReactiveFormsModule, RouterLink, ProgressBarComponent, DecimalPipe],
  templateUrl: './batch-form.component.html',
  styleUrl: './batch-form.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class BatchFormComponent implements OnInit {
  private readonly batchApi = inject(BatchApiService);
  private readonly uploadApi = inject(UploadApiService);
  private readonly jobTypeService = inject(JobTypeService);
  private readonly owner = inject(OwnerService);
  private readonly router = inject(Router);
  private readonly destroyRef = inject(DestroyRef);

  protected readonly ownerId = this.owner.ownerId;
  protected readonly limits = BATCH_LIMITS;

  protected readonly form = new FormGroup<BatchForm>({
    name: new FormControl('', {
      nonNullable: true,
      validators: [
        Validators.required,
        notBlankValidator,
        Validators.maxLength(BATCH_LIMITS.nameMaxLength),
      ],
    }),
    type: new FormControl('', { nonNullable: true, validators: [Validators.required] }),
    source: new FormControl<BatchSource>('items', { nonNullable: true }),
    items: new FormControl('', {
      nonNullable: true,
      validators: [Validators.required, itemsValidator],
    }),
    format: new FormControl<BatchFormat>('jsonl', { nonNullable: true }),
    allOrNothing: new FormControl(false, { nonNullable: true }),
    webhookUrl: new FormControl('', { nonNullable: true, validators: [webhookUrlValidator] }),
  });

  protected readonly jobTypes = signal<JobType[]>([]);
  protected readonly typesState = signal<TypesState>('loading');
  protected readonly typesError = signal<string | null>(null);
  protected readonly submitting = signal(false);
  protected readonly selectedFile = signal<File | null>(null);
  protected readonly upload = signal<UploadProgress | null>(null);
  /** A batch created with invalid items: listed here, with a link to its page. */
  protected readonly created = signal<Batch | null>(null);
  /** The file already in S3: a retry after a failed submit reuses it, never uploads twice. */
  private uploaded: { file: File; ownerId: string; key: string } | null = null;
  private readonly submitAttempted = signal(false);
  private readonly serverErrors = signal<readonly ProblemFieldError[]>([]);
  private readonly apiError = signal<ApiError | null>(null);
  private readonly idempotencyKeys = new IdempotencyKeyTracker();

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
  protected readonly uploadPercent = computed(() => {
    const upload = this.upload();
    return upload === null || upload.total === 0 ? 0 : (100 * upload.loaded) / upload.total;
  });
  protected readonly uploading = computed(() => this.submitting() && this.upload()?.key === null);

  /** Messages per field: client-side validation first, otherwise the API's `errors`. */
  protected readonly fieldErrors = computed((): Record<BatchFormField, ProblemFieldError[]> => {
    this.formEvents();
    const result = {} as Record<BatchFormField, ProblemFieldError[]>;
    for (const field of FIELDS) {
      const message = this.clientMessage(field);
      result[field] = message
        ? [{ field, message }]
        : this.serverErrors().filter((e) => fieldFor(e.field) === field);
    }
    return result;
  });

  /** Problem details not tied to a field of the form, with any errors naming other fields. */
  protected readonly generalError = computed(
    (): { message: string; fields: ProblemFieldError[] } | null => {
      const error = this.apiError();
      if (error === null) {
        return null;
      }
      const fields = this.serverErrors().filter((e) => fieldFor(e.field) === null);
      if (error.status === 422 && fields.length === 0 && this.serverErrors().length > 0) {
        return null;
      }
      const retry =
        error.retryAfterSeconds !== null ? ` Try again in ${error.retryAfterSeconds} s.` : '';
      return { message: `${error.title}: ${error.detail}${retry}`, fields };
    },
  );

  constructor() {
    this.form.controls.type.valueChanges
      .pipe(takeUntilDestroyed())
      .subscribe((type) => this.applyTypeExample(type));
    this.form.controls.source.valueChanges
      .pipe(takeUntilDestroyed())
      .subscribe((source) => this.applySource(source));
    for (const field of FIELDS) {
      if (field !== 'file') {
        this.form.controls[field].valueChanges
          .pipe(takeUntilDestroyed())
          .subscribe(() => this.clearServerErrors(field));
      }
    }
    this.form.valueChanges.pipe(takeUntilDestroyed()).subscribe(() => this.idempotencyKeys.reset());
  }

  ngOnInit(): void {
    this.loadJobTypes();
  }

  protected loadJobTypes(): void {
    this.typesState.set('loading');
    this.jobTypeService
      .getJobTypes()
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (types) => {
          this.jobTypes.set(types);
          this.typesState.set('ready');
          if (types.length > 0 && !types.some((t) => t.type === this.form.controls.type.value)) {
            this.form.controls.type.setValue(types[0].type);
          }
        },
        error: (error: unknown) => {
          this.typesState.set('error');
          this.typesError.set(toApiError(error).detail);
        },
      });
  }

  protected resetItems(): void {
    this.applyTypeExample(this.form.controls.type.value, true);
  }

  protected chooseFile(event: Event): void {
    const input = event.target as HTMLInputElement;
    const file = input.files?.item(0) ?? null;
    this.selectedFile.set(file);
    this.upload.set(null);
    this.uploaded = null;
    this.clearServerErrors('file');
    this.idempotencyKeys.reset();
    if (file !== null) {
      this.form.controls.format.setValue(formatOf(file.name));
    }
  }

  protected submit(): void {
    this.submitAttempted.set(true);
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
    this.submitting.set(true);
    this.created.set(null);
    this.serverErrors.set([]);
    this.apiError.set(null);
    const value = this.form.getRawValue();
    const base = {
      name: value.name.trim(),
      type: value.type,
      ownerId,
      allOrNothing: value.allOrNothing,
      webhookUrl: value.webhookUrl.trim() || null,
    };
    const create = (request: CreateBatchRequest): Observable<Batch> =>
      this.batchApi.createBatch(request, this.idempotencyKeys.keyFor(request));
    // With a file: upload it to S3 first (progress shown), then submit the batch naming it.
    const batch$ =
      file === null
        ? create({ ...base, items: items! })
        : this.uploadOnce(file, ownerId, value.format).pipe(
            switchMap((key) => create({ ...base, object: key, format: value.format })),
          );
    batch$.pipe(takeUntilDestroyed(this.destroyRef)).subscribe({
      next: (batch) => {
        this.idempotencyKeys.reset();
        this.submitting.set(false);
        if (batch.invalid.count > 0) {
          this.created.set(batch); // list the refused lines here first
        } else {
          void this.router.navigate(['/batches', batch.id]);
        }
      },
      error: (error: unknown) => {
        const apiError = toApiError(error);
        if (!isRetryable(apiError)) {
          this.idempotencyKeys.reset();
        }
        this.submitting.set(false);
        if (this.uploaded === null) {
          this.upload.set(null);
        }
        this.apiError.set(apiError);
        this.serverErrors.set(apiError.errors);
      },
    });
  }

  protected formatBytes(bytes: number): string {
    if (bytes < 1024) {
      return `${bytes} B`;
    }
    const mb = bytes / (1024 * 1024);
    return mb < 1 ? `${(bytes / 1024).toFixed(1)} KB` : `${mb.toFixed(1)} MB`;
  }

  private uploadOnce(file: File, ownerId: string, format: BatchFormat): Observable<string> {
    const done = this.uploaded;
    if (done !== null && done.file === file && done.ownerId === ownerId) {
      return of(done.key);
    }
    return this.uploadApi.upload(file, ownerId, CONTENT_TYPES[format]).pipe(
      tap((progress) => this.upload.set(progress)),
      filter((progress) => progress.key !== null),
      map((progress) => progress.key!),
      tap((key) => (this.uploaded = { file, ownerId, key })),
    );
  }

  private clientMessage(field: BatchFormField): string | null {
    if (field === 'file') {
      return this.submitAttempted() && this.source() === 'file' && this.selectedFile() === null
        ? 'Choose a JSON Lines or CSV file.'
        : null;
    }
    const control = this.form.controls[field];
    if (control.disabled || control.valid || !(this.submitAttempted() || control.touched)) {
      return null;
    }
    return describeBatchErrors(control.errors) ?? describeErrors(control.errors);
  }

  private clearServerErrors(field: BatchFormField): void {
    const remaining = this.serverErrors().filter((e) => fieldFor(e.field) !== field);
    if (remaining.length !== this.serverErrors().length) {
      this.serverErrors.set(remaining);
    }
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

/** Failures after which the batch may or may not exist: a retry must reuse the key. */
function isRetryable(error: ApiError): boolean {
  return error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500;
}
