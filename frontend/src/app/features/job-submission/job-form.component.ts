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
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { ReactiveFormsModule } from '@angular/forms';
import { ActivatedRoute, Router } from '@angular/router';
import { Observable, switchMap } from 'rxjs';

import { focusFirstInvalid } from '../../core/a11y/focus';
import { toApiError } from '../../core/interceptors/problem.interceptor';
import { CreateJobRequest, Job, JsonObject } from '../../core/models/job.model';
import { JOB_LIMITS, SIMULATE_JOB_TYPE } from '../../core/models/job-type.model';
import { FileUpload } from '../../core/services/file-upload';
import { JobApiService } from '../../core/services/job-api.service';
import { JobTypeOptions } from '../../core/services/job-type-options';
import { OwnerService } from '../../core/services/owner.service';
import { FieldErrorsComponent } from '../../shared/form-errors/field-errors.component';
import { FormErrorComponent } from '../../shared/form-errors/form-error.component';
import { UploadFieldComponent } from '../../shared/upload-field/upload-field.component';
import { FormSubmission } from './form-submission';
import { JobTypeFieldComponent } from './job-type-field.component';
import { JobTypesErrorComponent } from './job-types-error.component';
import { loadRerunSource } from './rerun-source';
import { describeErrors, parseJsonObject } from './job-form.validators';

import {
  CONFIRM_DISCARD,
  controlFor,
  createJobForm,
  ERROR_IDS,
  FIELD_PATHS,
  FieldMessage,
  fieldForPath,
  JobFormField,
  messageNamingField,
  payloadEdited,
  syncKnobsFromPayload,
  syncPayloadFromKnobs,
} from './job-form.fields';

export type { FieldMessage, JobFormField } from './job-form.fields';

/** The job type whose form can upload a file (sent as the payload's `object`). */
export const CSV_JOB_TYPE = 'csv-summary';

/**
 * The submit form (`/new`): name, type, JSON payload and the simulate knobs; for
 * csv-summary, a file uploaded straight to S3 (with a progress bar) instead of the text.
 * The form's controls, field mapping and knob syncing live in job-form.fields.ts.
 */
@Component({
  selector: 'app-job-form',
  imports: [
    ReactiveFormsModule,
    FieldErrorsComponent,
    FormErrorComponent,
    JobTypeFieldComponent,
    JobTypesErrorComponent,
    UploadFieldComponent,
  ],
  templateUrl: './job-form.component.html',
  styleUrls: ['../../shared/submit-form/submit-form.css', './job-form.component.css'],
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class JobFormComponent implements OnInit {
  private readonly jobApi = inject(JobApiService);
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

  protected readonly form = createJobForm();

  protected readonly types = new JobTypeOptions();
  private readonly jobTypes = this.types.types;
  protected readonly typesState = this.types.state;
  /** The CSV file chosen for csv-summary (uploaded on submit), and how far its upload is. */
  protected readonly upload = new FileUpload();
  protected readonly selectedFile = this.upload.file;
  private readonly submission = new FormSubmission<JobFormField>((path) => this.fieldFor(path));
  protected readonly submitting = this.submission.submitting;
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
    const showClient = this.submission.attempted();
    const result = {} as Record<JobFormField, FieldMessage[]>;
    for (const field of Object.keys(FIELD_PATHS) as JobFormField[]) {
      const control = controlFor(this.form, field);
      const clientMessage =
        control && control.enabled && control.invalid && (showClient || control.touched)
          ? describeErrors(control.errors)
          : null;
      result[field] = clientMessage
        ? [{ testId: `error-${FIELD_PATHS[field]}`, message: clientMessage }]
        : this.submission.errorsFor(field).map((e) => ({
            testId: `error-${e.field}`,
            message: messageNamingField(e.field, e.message),
          }));
    }
    return result;
  });

  /** Problem details not tied to a known field: detail for 400/413/503/network, unknown fields. */
  protected readonly generalError = this.submission.formError;

  /** `aria-describedby` of a field: its messages when it has some, then its hint if any. */
  protected describedBy(field: JobFormField, hintId: string | null = null): string | null {
    const ids = [this.fieldErrors()[field].length > 0 ? ERROR_IDS[field] : null, hintId];
    return ids.filter((id) => id !== null).join(' ') || null;
  }

  protected readonly errorIds = ERROR_IDS;

  constructor() {
    this.form.controls.type.valueChanges
      .pipe(takeUntilDestroyed())
      .subscribe((type) => this.changeType(type));
    this.form.controls.payload.valueChanges
      .pipe(takeUntilDestroyed())
      .subscribe(() => syncKnobsFromPayload(this.form));
    this.form.controls.simulate.valueChanges.pipe(takeUntilDestroyed()).subscribe(() => {
      if (syncPayloadFromKnobs(this.form)) {
        this.clearServerErrors('payload');
      }
    });
    const fields = Object.keys(FIELD_PATHS) as JobFormField[];
    this.submission.watch(
      this.form,
      fields.map((field) => [field, controlFor(this.form, field)] as const),
    );
  }

  ngOnInit(): void {
    this.loadJobTypes();
  }

  protected loadJobTypes(): void {
    this.types.load({ control: this.form.controls.type, loaded: () => this.prefillRerun() });
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
          this.rerunNote.set(
            `Re-run of job ${source.id}: its name, type and payload are filled in.`,
          );
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
    this.submission.attempted.set(true);
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
    this.submission.start();
    const create = (jobPayload: JsonObject): Observable<Job> => {
      const request: CreateJobRequest = {
        name: this.form.controls.name.value.trim(),
        type: this.form.controls.type.value,
        payload: jobPayload,
        ownerId,
      };
      return this.jobApi.createJob(request, this.submission.idempotencyKeys.keyFor(request));
    };
    // With a file: upload it to S3 first (progress shown), then submit the job naming it.
    const job$ =
      file === null
        ? create(payload)
        : this.upload.keyFor(file, ownerId).pipe(switchMap((key) => create({ object: key })));
    job$.pipe(takeUntilDestroyed(this.destroyRef)).subscribe({
      next: (job) => {
        this.submission.succeeded();
        void this.router.navigate(['/jobs', job.id]);
      },
      error: (error: unknown) => {
        this.submission.failed(error);
        this.upload.submitFailed();
        this.focusFirstError();
      },
    });
  }

  /** A file chosen (or cleared) in the upload field: it replaces the payload's text. */
  protected setFile(file: File | null): void {
    this.upload.choose(file);
    this.clearServerErrors('file');
    this.submission.idempotencyKeys.reset();
    const payload = this.form.controls.payload;
    if (file !== null) {
      payload.disable();
    } else {
      payload.enable();
    }
  }

  /** The field that shows an API error (`payload.text` under the payload), or null. */
  private fieldFor(path: string): JobFormField | null {
    return fieldForPath(path, {
      hasFile: this.selectedFile() !== null,
      isSimulate: this.isSimulate(),
    });
  }

  private clearServerErrors(field: JobFormField): void {
    this.submission.clearErrors(field);
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
}
