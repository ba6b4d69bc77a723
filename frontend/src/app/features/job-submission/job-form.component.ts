import {
  afterNextRender,
  ChangeDetectionStrategy,
  Component,
  computed,
  DestroyRef,
  ElementRef,
  inject,
  Injector,
  OnInit,
  signal,
} from '@angular/core';
import { DecimalPipe } from '@angular/common';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import {
  AbstractControl,
  FormControl,
  FormGroup,
  ReactiveFormsModule,
  Validators,
} from '@angular/forms';
import { ActivatedRoute, Router } from '@angular/router';
import { filter, map, Observable, of, switchMap, tap } from 'rxjs';

import { focusFirstInvalid } from '../../core/a11y/focus';
import { toApiError } from '../../core/interceptors/problem.interceptor';
import { CreateJobRequest, Job, JsonObject } from '../../core/models/job.model';
import { JOB_LIMITS, JobType, SIMULATE_JOB_TYPE } from '../../core/models/job-type.model';
import { ApiError, ProblemFieldError } from '../../core/models/problem.model';
import { UploadProgress } from '../../core/models/upload.model';
import { JobApiService } from '../../core/services/job-api.service';
import { JobTypeService } from '../../core/services/job-type.service';
import { OwnerService } from '../../core/services/owner.service';
import { UploadApiService } from '../../core/services/upload-api.service';
import { ProgressBarComponent } from '../../shared/progress-bar/progress-bar.component';
import { IdempotencyKeyTracker } from './idempotency-key';
import { loadRerunSource } from './rerun-source';
import {
  describeErrors,
  integerValidator,
  jsonObjectValidator,
  notBlankValidator,
  parseJsonObject,
} from './job-form.validators';

import {
  CONFIRM_DISCARD,
  ERROR_IDS,
  FIELD_PATHS,
  FieldMessage,
  formatBytes,
  JobFormField,
  messageNamingField,
  payloadEdited,
} from './job-form.fields';

export type { FieldMessage, JobFormField } from './job-form.fields';

type SimulateKnob = 'durationSeconds' | 'failureProbability' | 'steps';

interface SimulateForm {
  durationSeconds: FormControl<number | null>;
  failureProbability: FormControl<number | null>;
  steps: FormControl<number | null>;
}

interface JobForm {
  name: FormControl<string>;
  type: FormControl<string>;
  payload: FormControl<string>;
  simulate: FormGroup<SimulateForm>;
}

type TypesState = 'loading' | 'ready' | 'error';

const SIMULATE_KNOBS: readonly SimulateKnob[] = ['durationSeconds', 'failureProbability', 'steps'];

/** The job type whose form can upload a file (sent as the payload's `object`). */
export const CSV_JOB_TYPE = 'csv-summary';

/** Fields of `POST /api/uploads` errors, shown under the file input. */
const UPLOAD_FIELDS = ['filename', 'contentType', 'size', 'payload.object'];

/**
 * The submit form (`/new`): name, type, JSON payload and the simulate knobs; for
 * csv-summary, a file uploaded straight to S3 (with a progress bar) instead of the text.
 */
@Component({
  selector: 'app-job-form',
  imports: [ReactiveFormsModule, ProgressBarComponent, DecimalPipe],
  templateUrl: './job-form.component.html',
  styleUrl: './job-form.component.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class JobFormComponent implements OnInit {
  private readonly jobApi = inject(JobApiService);
  private readonly uploadApi = inject(UploadApiService);
  private readonly jobTypeService = inject(JobTypeService);
  private readonly owner = inject(OwnerService);
  private readonly router = inject(Router);
  private readonly destroyRef = inject(DestroyRef);
  private readonly injector = inject(Injector);
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);
  private readonly confirmDiscard = inject(CONFIRM_DISCARD);
  /** Issue 15 "Re-run": `/new?from=<id>` pre-fills the form with that job (once). */
  private rerunFrom = inject(ActivatedRoute).snapshot.queryParamMap.get('from');
  protected readonly rerunNote = signal<string | null>(null);

  protected readonly limits = JOB_LIMITS;
  protected readonly ownerId = this.owner.ownerId;

  protected readonly form = new FormGroup<JobForm>({
    name: new FormControl('', {
      nonNullable: true,
      validators: [
        Validators.required,
        notBlankValidator,
        Validators.maxLength(JOB_LIMITS.nameMaxLength),
      ],
    }),
    type: new FormControl('', { nonNullable: true, validators: [Validators.required] }),
    payload: new FormControl('{}', {
      nonNullable: true,
      validators: [Validators.required, jsonObjectValidator],
    }),
    simulate: new FormGroup<SimulateForm>({
      durationSeconds: new FormControl<number | null>(null, [
        Validators.required,
        Validators.min(JOB_LIMITS.durationSeconds.min),
        Validators.max(JOB_LIMITS.durationSeconds.max),
      ]),
      failureProbability: new FormControl<number | null>(null, [
        Validators.required,
        Validators.min(JOB_LIMITS.failureProbability.min),
        Validators.max(JOB_LIMITS.failureProbability.max),
      ]),
      steps: new FormControl<number | null>(null, [
        Validators.required,
        Validators.min(JOB_LIMITS.steps.min),
        Validators.max(JOB_LIMITS.steps.max),
        integerValidator,
      ]),
    }),
  });

  protected readonly jobTypes = signal<JobType[]>([]);
  protected readonly typesState = signal<TypesState>('loading');
  protected readonly typesError = signal<string | null>(null);
  protected readonly submitting = signal(false);
  /** The CSV file chosen for csv-summary (uploaded on submit), and how far its upload is. */
  protected readonly selectedFile = signal<File | null>(null);
  protected readonly upload = signal<UploadProgress | null>(null);
  /** The file already in S3: a retry after a failed submit reuses it, never uploads twice. */
  private uploaded: { file: File; ownerId: string; key: string } | null = null;
  protected readonly uploadPercent = computed(() => {
    const upload = this.upload();
    return upload === null || upload.total === 0 ? 0 : (100 * upload.loaded) / upload.total;
  });
  private readonly submitAttempted = signal(false);
  private readonly serverErrors = signal<readonly ProblemFieldError[]>([]);
  private readonly apiError = signal<ApiError | null>(null);
  /** Same key for a retry of the same request; a new one after an edit or a success. */
  private readonly idempotencyKeys = new IdempotencyKeyTracker();
  /** The type whose example the payload started from, and that example's text. */
  private currentType = '';
  private examplePayload = '{}';

  /** Bumps on every value/status/touched change of the form, so computeds re-read it. */
  private readonly formEvents = toSignal(this.form.events, { initialValue: null });
  private readonly selectedTypeName = toSignal(this.form.controls.type.valueChanges, {
    initialValue: '',
  });

  protected readonly selectedType = computed(
    () => this.jobTypes().find((t) => t.type === this.selectedTypeName()) ?? null,
  );
  protected readonly isSimulate = computed(() => this.selectedTypeName() === SIMULATE_JOB_TYPE);
  protected readonly acceptsFile = computed(() => this.selectedTypeName() === CSV_JOB_TYPE);
  protected readonly nameLength = computed(() => {
    this.formEvents();
    return this.form.controls.name.value.length;
  });

  /** Messages per field: client-side validation first, otherwise the API's `errors`. */
  protected readonly fieldErrors = computed((): Record<JobFormField, FieldMessage[]> => {
    this.formEvents();
    const showClient = this.submitAttempted();
    const result = {} as Record<JobFormField, FieldMessage[]>;
    for (const field of Object.keys(FIELD_PATHS) as JobFormField[]) {
      const control = field === 'ownerId' || field === 'file' ? null : this.controlFor(field);
      const clientMessage =
        control && control.enabled && control.invalid && (showClient || control.touched)
          ? describeErrors(control.errors)
          : null;
      result[field] = clientMessage
        ? [{ testId: `error-${FIELD_PATHS[field]}`, message: clientMessage }]
        : this.serverErrors()
            .filter((e) => this.fieldFor(e.field) === field)
            .map((e) => ({
              testId: `error-${e.field}`,
              message: messageNamingField(e.field, e.message),
            }));
    }
    return result;
  });

  /** Problem details not tied to a known field: detail for 400/413/503/network, unknown fields. */
  protected readonly generalError = computed(
    (): { message: string; fields: ProblemFieldError[] } | null => {
      const error = this.apiError();
      if (error === null) {
        return null;
      }
      const fields = this.serverErrors().filter((e) => this.fieldFor(e.field) === null);
      const hasFieldErrors = this.serverErrors().length > fields.length;
      if (error.status === 422 && hasFieldErrors && fields.length === 0) {
        return null;
      }
      const retry =
        error.retryAfterSeconds !== null ? ` Try again in ${error.retryAfterSeconds} s.` : '';
      return { message: `${error.title}: ${error.detail}${retry}`, fields };
    },
  );

  /** `aria-describedby` of a field: its messages when it has some, then its hint if any. */
  protected describedBy(field: JobFormField, hintId: string | null = null): string | null {
    const ids = [this.fieldErrors()[field].length > 0 ? ERROR_IDS[field] : null, hintId];
    return ids.filter((id) => id !== null).join(' ') || null;
  }

  protected readonly errorIds = ERROR_IDS;
  protected readonly formatBytes = formatBytes;

  constructor() {
    this.form.controls.type.valueChanges
      .pipe(takeUntilDestroyed())
      .subscribe((type) => this.changeType(type));
    this.form.controls.payload.valueChanges
      .pipe(takeUntilDestroyed())
      .subscribe((text) => this.syncKnobsFromPayload(text));
    this.form.controls.simulate.valueChanges
      .pipe(takeUntilDestroyed())
      .subscribe(() => this.syncPayloadFromKnobs());
    for (const field of Object.keys(FIELD_PATHS) as JobFormField[]) {
      this.controlFor(field)
        ?.valueChanges.pipe(takeUntilDestroyed())
        .subscribe(() => this.clearServerErrors(field));
    }
    this.form.controls.simulate.disable({ emitEvent: false });
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
          const current = this.form.controls.type.value;
          if (types.length > 0 && !types.some((t) => t.type === current)) {
            this.form.controls.type.setValue(types[0].type);
          }
          this.prefillRerun();
        },
        error: (error: unknown) => {
          this.typesState.set('error');
          this.typesError.set(toApiError(error).detail);
        },
      });
  }

  /** After the types: the type first (it sets its example payload), then the job's payload. */
  private prefillRerun(): void {
    const id = this.rerunFrom;
    this.rerunFrom = null;
    if (!id) {
      return;
    }
    loadRerunSource(this.jobApi, id)
      .pipe(takeUntilDestroyed(this.destroyRef))
      .subscribe({
        next: (source) => {
          this.form.controls.type.setValue(source.type);
          this.form.controls.name.setValue(source.name);
          this.form.controls.payload.setValue(JSON.stringify(source.payload, null, 2));
          this.rerunNote.set(`Re-run of job ${source.id}: its name, type and payload are filled in.`);
        },
        error: (error: unknown) =>
          this.rerunNote.set(`Could not load job ${id} to re-run it: ${toApiError(error).detail}`),
      });
  }

  /** Puts the selected type's example back into the payload. */
  protected resetPayload(): void {
    this.applyTypeExample(this.form.controls.type.value);
  }

  protected submit(): void {
    this.submitAttempted.set(true);
    const ownerId = this.ownerId();
    if (this.submitting() || ownerId === null) {
      return;
    }
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      this.focusFirstError();
      return;
    }
    const file = this.acceptsFile() ? this.selectedFile() : null;
    const payload = file === null ? parseJsonObject(this.form.controls.payload.value) : {};
    if (payload === null) {
      return;
    }
    this.submitting.set(true);
    this.serverErrors.set([]);
    this.apiError.set(null);
    const create = (jobPayload: JsonObject): Observable<Job> => {
      const request: CreateJobRequest = {
        name: this.form.controls.name.value.trim(),
        type: this.form.controls.type.value,
        payload: jobPayload,
        ownerId,
      };
      return this.jobApi.createJob(request, this.idempotencyKeys.keyFor(request));
    };
    // With a file: upload it to S3 first (progress shown), then submit the job naming it.
    const job$ =
      file === null
        ? create(payload)
        : this.uploadOnce(file, ownerId).pipe(switchMap((key) => create({ object: key })));
    job$.pipe(takeUntilDestroyed(this.destroyRef)).subscribe({
      next: (job) => {
        this.idempotencyKeys.reset();
        void this.router.navigate(['/jobs', job.id]);
      },
      error: (error: unknown) => {
        const apiError = toApiError(error);
        if (!isRetryable(apiError)) {
          // A definite answer: nothing was created, so the next attempt gets a new key.
          this.idempotencyKeys.reset();
        }
        this.submitting.set(false);
        if (this.uploaded === null) {
          this.upload.set(null); // the upload failed; one that succeeded stays shown (reused)
        }
        this.apiError.set(apiError);
        this.serverErrors.set(apiError.errors);
        this.focusFirstError();
      },
    });
  }

  /** The file's key in S3, uploading it (progress shown) unless this file is already there. */
  private uploadOnce(file: File, ownerId: string): Observable<string> {
    const done = this.uploaded;
    if (done !== null && done.file === file && done.ownerId === ownerId) {
      return of(done.key);
    }
    return this.uploadApi.upload(file, ownerId).pipe(
      tap((progress) => this.upload.set(progress)),
      filter((progress) => progress.key !== null),
      map((progress) => progress.key!),
      tap((key) => (this.uploaded = { file, ownerId, key })),
    );
  }

  /** A file chosen (or cleared) in the file input: it replaces the payload's text. */
  protected chooseFile(event: Event): void {
    const input = event.target as HTMLInputElement;
    this.setFile(input.files?.item(0) ?? null);
  }

  protected clearFile(input: HTMLInputElement): void {
    input.value = '';
    this.setFile(null);
  }

  private setFile(file: File | null): void {
    this.selectedFile.set(file);
    this.upload.set(null);
    this.uploaded = null;
    this.clearServerErrors('file');
    this.idempotencyKeys.reset();
    const payload = this.form.controls.payload;
    if (file !== null) {
      payload.disable();
    } else {
      payload.enable();
    }
  }

  private controlFor(field: JobFormField): AbstractControl<unknown> | null {
    switch (field) {
      case 'name':
      case 'type':
      case 'payload':
        return this.form.controls[field];
      case 'durationSeconds':
      case 'failureProbability':
      case 'steps':
        return this.form.controls.simulate.controls[field];
      case 'ownerId':
      case 'file':
        return null;
    }
  }

  /** Maps an API field path (`payload.text`) to the control that shows it, or null if unknown. */
  private fieldFor(path: string): JobFormField | null {
    if (
      UPLOAD_FIELDS.includes(path) &&
      (path !== 'payload.object' || this.selectedFile() !== null)
    ) {
      return 'file';
    }
    if (path === 'name' || path === 'type' || path === 'payload' || path === 'ownerId') {
      return path;
    }
    if (path.startsWith('payload.') || path.startsWith('payload[')) {
      const key = path.slice('payload.'.length);
      const knob = SIMULATE_KNOBS.find((k) => k === key);
      return knob !== undefined && this.isSimulate() ? knob : 'payload';
    }
    return null;
  }

  private clearServerErrors(field: JobFormField): void {
    const remaining = this.serverErrors().filter((e) => this.fieldFor(e.field) !== field);
    if (remaining.length !== this.serverErrors().length) {
      this.serverErrors.set(remaining);
    }
  }

  /**
   * After a refused submit, moves focus to the first field in error (in page order), or to
   * the form's alert when no field is to blame, so a keyboard or screen-reader user lands on
   * what to fix (WCAG 3.3.1) instead of on a submit button that seemingly did nothing.
   */
  private focusFirstError(): void {
    afterNextRender(
      () => focusFirstInvalid(this.host.nativeElement, '[data-testid="form-error"], .field-error'),
      { injector: this.injector },
    );
  }

  /** True when the user changed the payload (or chose a file) since the type's example. */
  private hasEdits(): boolean {
    return (
      this.selectedFile() !== null ||
      payloadEdited(this.form.controls.payload.value, this.examplePayload)
    );
  }

  /**
   * A new type replaces the payload with its example: edits are lost, so ask first (issue 15:
   * it used to discard them silently). Saying no puts the previous type back.
   */
  private changeType(type: string): void {
    if (type === this.currentType) {
      return;
    }
    const edits = this.currentType !== '' && this.hasEdits();
    const what = this.selectedFile() !== null ? 'the chosen file' : 'your edited payload';
    if (
      edits &&
      !this.confirmDiscard(`Switch to ${type}? This replaces ${what} with the ${type} example.`)
    ) {
      this.form.controls.type.setValue(this.currentType);
      return;
    }
    this.currentType = type;
    this.applyTypeExample(type);
  }

  private applyTypeExample(typeName: string): void {
    const jobType = this.jobTypes().find((t) => t.type === typeName);
    const simulate = this.form.controls.simulate;
    if (typeName !== CSV_JOB_TYPE && this.selectedFile() !== null) {
      this.setFile(null);
    }
    if (typeName === SIMULATE_JOB_TYPE) {
      simulate.enable({ emitEvent: false });
    } else {
      simulate.disable({ emitEvent: false });
    }
    if (jobType !== undefined) {
      this.examplePayload = JSON.stringify(jobType.example, null, 2);
      // Emits, so the simulate knobs pick the example's values up.
      this.form.controls.payload.setValue(this.examplePayload);
    }
  }

  private syncKnobsFromPayload(text: string): void {
    const simulate = this.form.controls.simulate;
    const payload = parseJsonObject(text);
    if (simulate.disabled || payload === null) {
      return;
    }
    for (const knob of SIMULATE_KNOBS) {
      const value = payload[knob];
      if (typeof value === 'number' && simulate.controls[knob].value !== value) {
        simulate.controls[knob].setValue(value, { emitEvent: false });
      }
    }
  }

  private syncPayloadFromKnobs(): void {
    const simulate = this.form.controls.simulate;
    if (simulate.disabled) {
      return;
    }
    const payload: JsonObject = parseJsonObject(this.form.controls.payload.value) ?? {};
    for (const knob of SIMULATE_KNOBS) {
      const value = simulate.controls[knob].value;
      if (typeof value === 'number' && Number.isFinite(value)) {
        payload[knob] = value;
      } else {
        delete payload[knob];
      }
    }
    this.form.controls.payload.setValue(JSON.stringify(payload, null, 2), { emitEvent: false });
    this.clearServerErrors('payload');
  }
}

/** Failures after which the job may or may not exist: a retry must reuse the Idempotency-Key. */
function isRetryable(error: ApiError): boolean {
  return error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500;
}
